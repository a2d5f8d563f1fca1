"""The plain-text summary of a benchmark result (pure): :func:`summary_table`, the table the
module returns and the playbook prints, and :func:`replica_line`.  Also what the HTML report
(``vedfin_bench.report``) shares with it: the schema check and number formatting
(:class:`ReportError` comes from ``vedfin_charts``)."""

from __future__ import annotations

from ansible.module_utils.vedfin_bench.common import SCHEMA_VERSION
from ansible.module_utils.vedfin_charts import ReportError


def check_schema(result: dict) -> None:
    """Raise ReportError unless ``result`` is a dict of this ``schema_version``."""
    if not isinstance(result, dict) or result.get("schema_version") != SCHEMA_VERSION:
        got = result.get("schema_version") if isinstance(result, dict) else type(result).__name__
        raise ReportError(f"unsupported benchmark result schema_version {got!r}; expected {SCHEMA_VERSION}")


def fmt(value, nd=2) -> str:
    """A number for people: floats with ``nd`` decimals, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{nd}f}"
    return str(value)


def _p95(q: dict, variant: str):
    return ((q.get("variants") or {}).get(variant) or {}).get("p95_ms")


def _query_verdict(result: dict, name: str) -> str:
    mine = [c for c in result.get("checks", []) if c["name"].split(":", 1)[-1] == name and ":" in c["name"]]
    if not mine or all(c["passed"] is None for c in mine):
        return "n/a"
    return "PASS" if all(c["passed"] is not False for c in mine) else "FAIL"


def summary_table(result: dict) -> str:
    """Plain-text table for a terminal: per query the p95 of oracle / fast / cached (ms),
    the fast-vs-oracle speedup (ratio of means) and PASS/FAIL of its checks; then the
    aggregate lines and the overall verdict."""
    check_schema(result)
    headers = [
        "query",
        "rows",
        "p95 oracle",
        "p95 fast",
        "p95 cached",
        "p95 dflt",
        "p95 tuned",
        "speedup",
        "result",
    ]
    rows = []
    for name, q in (result.get("queries") or {}).items():
        fast = (q.get("variants") or {}).get("fast") or {}
        rows.append(
            [
                name,
                fmt(fast.get("rows")),
                fmt(_p95(q, "oracle")),
                fmt(_p95(q, "fast")),
                fmt(_p95(q, "cached")),
                fmt(_p95(q, "default_settings")),
                fmt(_p95(q, "tuned_settings")),
                (fmt(q.get("speedup")) + "x") if q.get("speedup") is not None else "-",
                "ERROR" if q.get("error") else _query_verdict(result, name),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    agg = result.get("aggregate") or {}
    mixed = result.get("mixed") or {}
    sf = result.get("single_flight") or {}
    lat = mixed.get("latency") or {}
    tg = result.get("targets") or {}
    out.append("")
    out.append(
        f"scale {result.get('scale')}  target fast p95 < {fmt(tg.get('query_p95_ms'))} ms, "
        f"cached p95 < {fmt(tg.get('cached_p95_ms'))} ms"
    )
    out.append(
        f"aggregate speedup fast vs oracle {fmt(agg.get('speedup'))}x "
        f"(geomean {fmt(agg.get('speedup_geomean'))}x), "
        f"cache {fmt(agg.get('cache_speedup'))}x, tuned vs default {fmt(agg.get('tuning_speedup'))}x"
    )
    out.append(
        f"mixed: {mixed.get('requests', '-')} requests in {fmt(mixed.get('elapsed_s'))} s "
        f"({fmt(mixed.get('throughput_rps'), 1)} req/s, {mixed.get('concurrency', '-')} clients), "
        f"p50 {fmt(lat.get('p50_ms'))} / p95 {fmt(lat.get('p95_ms'))} / p99 {fmt(lat.get('p99_ms'))} ms, "
        f"hit rate {fmt(mixed.get('hit_rate'), 4)}, redis p95 {fmt(mixed.get('redis_p95_ms'), 3)} ms"
    )
    if sf.get("ran"):
        out.append(
            f"single-flight: {sf.get('callers')} concurrent misses -> {sf.get('computes')} DB compute(s)"
        )
    else:
        out.append(f"single-flight: not run ({sf.get('note', '')})")
    if result.get("replication"):
        out.append(replica_line(result["replication"]))
    failed = [c["name"] for c in result.get("checks", []) if c["enforced"] and c["passed"] is False]
    out.append(
        "overall: "
        + ("PASS" if result.get("passed") else "FAIL")
        + (f" (failed: {', '.join(failed)})" if failed else "")
    )
    return "\n".join(out)


def replica_line(rep: dict) -> str:
    """One line for replica mode: where the reads went, the write load, the lag."""
    tgt, load, lag = rep.get("read_target") or {}, rep.get("write_load") or {}, rep.get("lag") or {}
    b, sec = lag.get("bytes") or {}, lag.get("seconds") or {}
    return (
        f"replica: reads on {tgt.get('host')}:{tgt.get('port')}; write load "
        f"{load.get('rate_target')} rows/s ({load.get('rows')} rows, {fmt(load.get('rows_per_s'), 1)}/s); "
        f"lag p95 {fmt(b.get('p95'), 0)} bytes / {fmt(sec.get('p95'), 3)} s, "
        f"max {fmt(b.get('max'), 0)} bytes / {fmt(sec.get('max'), 3)} s "
        f"({lag.get('samples')} samples, {lag.get('standbys')} standby(s))"
    )
