"""The HTML report of a benchmark result (docs/BENCHMARK.md), rendered on the controller
(tools/bench_report.py, which playbooks/bench.yml runs on the fetched JSON): one
self-contained file, its charts drawn by matplotlib (Agg backend) and embedded as base64 PNG
data URIs, so the HTML has no external reference at all.

Public API: ``load_result(path)``, ``render_html(result) -> str``,
``write_html(result, path) -> str``, ``ReportError``.  The text table is
``vedfin_bench.summary``; matplotlib and PNG embedding, shared with the health dashboard,
are ``vedfin_charts``.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from ansible.module_utils.vedfin_bench.summary import check_schema, fmt, replica_line
from ansible.module_utils.vedfin_charts import png, pyplot, read_result

VARIANT_LABELS = {
    "oracle": "oracle",
    "fast": "fast",
    "cached": "fast + cache",
    "default_settings": "default settings",
    "tuned_settings": "tuned settings",
}
COLORS = {
    "oracle": "#9e9e9e",
    "fast": "#1f77b4",
    "cached": "#2ca02c",
    "default_settings": "#ff7f0e",
    "tuned_settings": "#9467bd",
}


# -- charts ----------------------------------------------------------------------------------
def _plain_log(axis) -> None:
    """Log scale with plain tick labels (0.5, 1, 2, 10) instead of 2x10^0."""
    from matplotlib.ticker import FuncFormatter

    def minor(v, _pos):  # label 2x and 5x between decades, so short ranges keep labels
        if v <= 0:
            return ""
        mantissa = round(v / 10 ** math.floor(math.log10(v)), 6)
        return f"{v:g}" if mantissa in (2, 5) else ""

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def _positive(values):
    return [max(v, 1e-3) for v in values]


def chart_distributions(result: dict) -> str | None:
    """One box plot per query: the latency samples of every variant (log scale)."""
    queries = [(n, q) for n, q in (result.get("queries") or {}).items() if q.get("variants")]
    if not queries:
        return None
    plt = pyplot()
    cols = 4
    rows = math.ceil(len(queries) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, (name, q) in zip(axes.flat, queries, strict=False):
        data, labels, colors = [], [], []
        for v, entry in q["variants"].items():
            samples = entry.get("samples_ms") or []
            if samples:
                data.append(_positive(samples))
                labels.append(VARIANT_LABELS.get(v, v).replace(" ", "\n", 1))
                colors.append(COLORS.get(v, "#777777"))
        if data:
            box = ax.boxplot(data, patch_artist=True, showfliers=True, widths=0.6)
            for patch, color in zip(box["boxes"], colors, strict=True):
                patch.set_facecolor(color)
                patch.set_alpha(0.6)
            ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=7)
            ax.set_yscale("log")
            _plain_log(ax.yaxis)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("ms", fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    for ax in list(axes.flat)[len(queries) :]:
        ax.axis("off")
    fig.suptitle("Latency distribution per query and variant (ms, log scale)")
    fig.tight_layout()
    return png(fig)


def chart_bars(
    result: dict, variants: tuple[str, ...], title: str, target: float | None = None
) -> str | None:
    """Grouped horizontal bars of the p95 of ``variants`` per query (log scale)."""
    queries = [(n, q) for n, q in (result.get("queries") or {}).items() if q.get("variants")]
    present = [v for v in variants if any(v in q["variants"] for _, q in queries)]
    if not queries or not present:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(queries) * len(present) + 1.5))
    height = 0.8 / len(present)
    for i, v in enumerate(present):
        ys = [k + i * height for k in range(len(queries))]
        vals = [(q["variants"].get(v) or {}).get("p95_ms") for _, q in queries]
        ax.barh(
            ys,
            _positive([x or 0 for x in vals]),
            height=height,
            label=VARIANT_LABELS.get(v, v),
            color=COLORS.get(v),
        )
        for y, x in zip(ys, vals, strict=True):
            if x is not None:
                ax.text(max(x, 1e-3) * 1.05, y, f"{x:.2f}", va="center", fontsize=7)
    ax.set_yticks(
        [k + height * (len(present) - 1) / 2 for k in range(len(queries))],
        [n for n, _ in queries],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_xscale("log")
    _plain_log(ax.xaxis)
    ax.set_xlabel("p95 latency, ms (log scale)")
    if target:
        ax.axvline(target, color="red", linestyle="--", linewidth=1, label=f"target {target:g} ms")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    return png(fig)


def chart_mixed(result: dict) -> str | None:
    mixed = result.get("mixed") or {}
    if not mixed.get("requests"):
        return None
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    stats = mixed.get("cache_stats") or {}
    if stats:
        labels = ["hits", "misses", "degraded"]
        vals = [stats.get(k, 0) for k in labels]
        ax1.bar(labels, vals, color=["#2ca02c", "#d62728", "#ff7f0e"])
        for i, v in enumerate(vals):
            ax1.text(i, v, str(v), ha="center", va="bottom", fontsize=8)
        ax1.set_title(f"Mixed workload cache: hit rate {mixed.get('hit_rate', 0) * 100:.1f} % (target 95 %)")
    else:
        ax1.text(0.5, 0.5, "no Redis: mixed workload ran uncached", ha="center", va="center")
        ax1.axis("off")
    per = mixed.get("per_query") or {}
    names = list(per)
    ax2.barh(names, [per[n]["n"] for n in names], color="#1f77b4")
    ax2.invert_yaxis()
    ax2.tick_params(axis="y", labelsize=7)
    ax2.set_xlabel("requests (Zipf mix)")
    ax2.set_title(
        f"{mixed['requests']} requests, {mixed.get('throughput_rps')} req/s, "
        f"{mixed.get('concurrency')} clients"
    )
    fig.tight_layout()
    return png(fig)


def chart_lag(result: dict) -> str | None:
    """Replication lag over the run (bytes and seconds), replica mode only."""
    series = (result.get("replication") or {}).get("series") or []
    if not series:
        return None
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True)
    ts = [p[0] for p in series]
    ax1.plot(ts, [p[1] if p[1] is not None else math.nan for p in series], color="#1f77b4", linewidth=1)
    ax1.set_ylabel("lag, bytes")
    ax2.plot(ts, [p[2] if p[2] is not None else math.nan for p in series], color="#d62728", linewidth=1)
    ax2.set_ylabel("replay_lag, s")
    ax2.set_xlabel("seconds since the first measured query")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    load = (result.get("replication") or {}).get("write_load") or {}
    ax1.set_title(
        f"Replication lag during the run (write load {load.get('rate_target')} rows/s on the primary)"
    )
    fig.tight_layout()
    return png(fig)


# -- HTML ----------------------------------------------------------------------------------
def _e(value) -> str:
    return html.escape("-" if value is None else str(value))


def _table(headers, rows, classes=None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(uri: str | None, alt: str) -> str:
    if not uri:
        return f"<p class='note'>{_e(alt)}: no data.</p>"
    return f'<img src="{uri}" alt="{_e(alt)}">'


def _ppp(entry) -> str:
    if not entry:
        return "-"
    return " / ".join(fmt(entry.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms"))


def _verdict(passed) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def render_html(result: dict) -> str:
    """The whole report as one HTML string (no external references)."""
    check_schema(result)
    queries = result.get("queries") or {}
    checks = result.get("checks") or []
    server = result.get("server") or {}
    mixed = result.get("mixed") or {}
    agg = result.get("aggregate") or {}
    target_p95 = (result.get("targets") or {}).get("query_p95_ms")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>V-EdFinance analytics benchmark {_e(result.get('generated_at'))}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px;color:#222}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:13px}"
        "th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}"
        "th{background:#f0f0f0}tr.fail td{background:#fde2e2}tr.pass td{background:#e6f4e6}"
        "tr.info td{background:#f7f7f7}img{max-width:100%;margin:0.5em 0 1.5em}"
        ".note{color:#666}.big{font-size:1.4em;font-weight:bold}code{font-size:12px}</style></head><body>",
        "<h1>V-EdFinance analytics benchmark</h1>",
        f"<p class='big'>Overall: {'PASS' if result.get('passed') else 'FAIL'}</p>",
        "<p>",
        f"Generated {_e(result.get('generated_at'))}, run {_e(result.get('run_id'))}, "
        f"scale <b>{_e(result.get('scale'))}</b>, "
        f"tz {_e(result.get('tz'))}, PostgreSQL {_e(server.get('version'))} db {_e(server.get('database'))}, "
        f"Redis {_e((result.get('redis') or {}).get('url') or 'none')}. "
        f"Options: {_e(result.get('options'))}. Run time {_e(result.get('duration_s'))} s.",
        "</p>",
        f"<p class='note'>Approximate row counts: {_e(server.get('row_counts'))}</p>",
        "<h2>Pass/fail</h2>",
    ]
    crow, ccls = [], []
    for c in checks:
        crow.append(
            [
                c["name"],
                c["metric"],
                f"{c['op']} {c['target']}",
                c["value"],
                _verdict(c["passed"]),
                "yes" if c["enforced"] else "no",
                c["note"],
            ]
        )
        ccls.append(
            "info" if not c["enforced"] or c["passed"] is None else ("pass" if c["passed"] else "fail")
        )
    parts.append(_table(["check", "metric", "target", "value", "result", "enforced", "note"], crow, ccls))

    parts.append("<h2>Per query (ms)</h2>")
    qrows = []
    for name, q in queries.items():
        v = q.get("variants") or {}
        qrows.append(
            [
                name,
                (v.get("fast") or {}).get("rows"),
                *(_ppp(v.get(k)) for k in ("oracle", "fast", "cached", "default_settings", "tuned_settings")),
                q.get("speedup"),
                q.get("rows_match"),
                q.get("error") or ("time budget hit" if q.get("truncated") else ""),
            ]
        )
    parts.append(
        _table(
            [
                "query",
                "rows",
                "oracle p50/p95/p99",
                "fast",
                "cached",
                "default settings",
                "tuned settings",
                "speedup",
                "rows match",
                "note",
            ],
            qrows,
        )
    )
    parts.append(
        f"<p>Aggregate: {_e(agg)}</p><p class='note'>speedup = oracle mean / fast mean per query; "
        "the aggregate is the sum of the oracle means over the sum of the fast means.</p>"
    )
    parts.append("<h2>Latency distributions</h2>")
    parts.append(_img(chart_distributions(result), "latency distributions"))
    parts.append("<h2>Oracle vs fast (p95)</h2>")
    parts.append(
        _img(chart_bars(result, ("oracle", "fast"), "Oracle vs fast form, p95", target_p95), "oracle vs fast")
    )
    parts.append("<h2>Uncached vs cached (p95)</h2>")
    parts.append(
        _img(
            chart_bars(
                result,
                ("fast", "cached"),
                "Fast form uncached vs cached, p95",
                (result.get("targets") or {}).get("cached_p95_ms"),
            ),
            "uncached vs cached",
        )
    )
    parts.append("<h2>Default vs tuned PostgreSQL settings (p95)</h2>")
    parts.append(
        _img(
            chart_bars(result, ("default_settings", "tuned_settings"), "Default vs tuned settings, p95"),
            "default vs tuned",
        )
    )
    st = result.get("settings") or {}
    parts.append(
        f"<p>Tuned values from: <b>{_e(st.get('tuned_source'))}</b>. "
        "Compared settings (session-level set_config):</p>"
    )
    parts.append(
        _table(
            [
                "setting",
                "default (boot_val)",
                "SHOW on default session",
                "tuned",
                "SHOW on tuned session",
                "unit",
            ],
            [
                [
                    s["name"],
                    s["default"],
                    (st.get("default_show") or {}).get(s["name"]),
                    s["tuned"],
                    (st.get("tuned_show") or {}).get(s["name"]),
                    s["unit"],
                ]
                for s in st.get("compared", [])
            ],
        )
    )
    if st.get("skipped"):
        parts.append("<p>Not compared:</p>")
        parts.append(
            _table(
                ["setting", "tuned", "reason"], [[s["name"], s["tuned"], s["reason"]] for s in st["skipped"]]
            )
        )

    parts.append("<h2>Mixed workload</h2>")
    lat = mixed.get("latency") or {}
    parts.append(
        f"<p>{_e(mixed.get('requests'))} requests, {_e(mixed.get('concurrency'))} clients, "
        f"{_e(mixed.get('elapsed_s'))} s (limits: {_e(mixed.get('duration_limit_s'))} s, "
        f"{_e(mixed.get('request_limit'))} requests; stopped by {_e(mixed.get('stopped_by'))}), "
        f"throughput {_e(mixed.get('throughput_rps'))} req/s, errors {_e(mixed.get('errors'))}. "
        f"Latency p50 {_e(lat.get('p50_ms'))} / p95 {_e(lat.get('p95_ms'))} / p99 {_e(lat.get('p99_ms'))} "
        f"/ max {_e(lat.get('max_ms'))} ms. Hit rate {_e(mixed.get('hit_rate'))}; Redis lookup "
        f"p50 {_e(mixed.get('redis_p50_ms'))} / p95 {_e(mixed.get('redis_p95_ms'))} ms.</p>"
    )
    parts.append(_img(chart_mixed(result), "mixed workload"))
    rep = result.get("replication")
    if rep:
        load, lag = rep.get("write_load") or {}, rep.get("lag") or {}
        parts.append("<h2>Replica mode: reads on the standby, write load on the primary</h2>")
        parts.append(f"<p>{_e(replica_line(rep))}</p>")
        parts.append(
            _table(
                ["", "p50", "p95", "max"],
                [
                    ["lag, bytes", *((lag.get("bytes") or {}).get(k) for k in ("p50", "p95", "max"))],
                    ["replay_lag, s", *((lag.get("seconds") or {}).get(k) for k in ("p50", "p95", "max"))],
                ],
            )
        )
        parts.append(
            f"<p class='note'>Samples every {_e(lag.get('interval_s'))} s from pg_stat_replication on "
            f"the primary; WAL retained by physical slots, max {_e(lag.get('slot_retained_bytes_max'))} "
            f"bytes. Write load into {_e(load.get('table'))}: {_e(load.get('rows'))} rows in "
            f"{_e(load.get('seconds'))} s. Errors: write load {_e(load.get('error'))}, "
            f"sampler {_e(lag.get('error'))}.</p>"
        )
        parts.append(_img(chart_lag(result), "replication lag"))
    sf = result.get("single_flight") or {}
    parts.append("<h2>Single-flight</h2>")
    parts.append(_table(["key", "value"], [[k, v] for k, v in sf.items()]))

    parts.append("<h2>EXPLAIN (ANALYZE, BUFFERS) of the fast forms: index usage</h2>")
    erows, ecls = [], []
    for name, e in (result.get("explain") or {}).items():
        erows.append(
            [
                name,
                "yes" if e.get("time_bounded") else "no",
                ", ".join(e.get("seq_scans") or []) or "-",
                ", ".join(e.get("indexes") or []) or "-",
                ", ".join(e.get("relations") or []),
                ", ".join(e.get("node_types") or []),
                e.get("execution_ms"),
                e.get("shared_hit_blocks"),
                e.get("shared_read_blocks"),
                "FLAG" if e.get("flagged") else (e.get("error") or "ok"),
            ]
        )
        ecls.append("fail" if e.get("flagged") or e.get("error") else "")
    parts.append(
        _table(
            [
                "query",
                "time-bounded",
                "Seq Scan on",
                "indexes",
                "relations",
                "node types",
                "exec ms",
                "shared hit",
                "shared read",
                "check",
            ],
            erows,
            ecls,
        )
    )
    parts.append("<h2>Live settings (SHOW)</h2>")
    parts.append(
        _table(
            ["setting", "value", "source", "boot_val"],
            [
                [k, v.get("value"), v.get("source"), v.get("boot_val")]
                for k, v in (result.get("show") or {}).items()
            ],
        )
    )
    pss = result.get("pg_stat_statements") or {}
    parts.append("<h2>pg_stat_statements: top 10 by total execution time</h2>")
    if pss.get("available"):
        parts.append(
            _table(
                ["total ms", "calls", "mean ms", "rows", "query"],
                [
                    [r["total_exec_time_ms"], r["calls"], r["mean_exec_time_ms"], r["rows"], r["query"]]
                    for r in pss.get("top", [])
                ],
            )
        )
    else:
        parts.append(f"<p class='note'>Not available: {_e(pss.get('note'))}</p>")
    parts.append("<h2>Parameters used</h2>")
    parts.append(_table(["query", "params"], [[n, q.get("params")] for n, q in queries.items()]))
    parts.append(f"<p class='note'>Ids picked: {_e(result.get('picks'))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(result: dict, path) -> str:
    """Render and write the report; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(result), encoding="utf-8")
    return str(p)


def load_result(path) -> dict:
    """A benchmark result from its JSON file; ReportError when unreadable or of another schema."""
    result = read_result(path, "benchmark")
    check_schema(result)
    return result
