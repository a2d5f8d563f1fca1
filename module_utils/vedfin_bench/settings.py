"""PostgreSQL settings of the benchmark: which query settings the default-vs-tuned comparison
sets on its two sessions (:func:`plan_settings`, :func:`apply_settings`,
:func:`compare_settings`) and the live SHOW values of the tuned settings
(:func:`show_settings`)."""

from __future__ import annotations

from ansible.module_utils.vedfin_bench.common import BenchError, scalar

try:
    import psycopg
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    psycopg = None

# Session-settable (context "user") settings that change how a query is planned or executed;
# pg_tune emits all of them for some profile.  Others pg_tune emits (shared_buffers,
# wal_buffers, max_worker_processes, ...) need a restart or a reload and are reported in
# ``settings.skipped`` with the reason.
QUERY_SETTINGS = (
    "work_mem",
    "random_page_cost",
    "effective_io_concurrency",
    "effective_cache_size",
    "jit",
    "max_parallel_workers_per_gather",
    "max_parallel_workers",
)
# What the report always shows from SHOW: the query settings above, memory and preload; the
# tuned settings the caller passes in (pg_tune's output for the host, the one list of tuned
# settings) are added to it.
SHOW_SETTINGS = (
    "max_connections",
    "shared_buffers",
    "maintenance_work_mem",
    *QUERY_SETTINGS,
    "shared_preload_libraries",
)


def _settings_rows(conn, names) -> dict:
    rows = conn.execute(
        "SELECT name, setting, unit, current_setting(name) AS show, boot_val, reset_val, source, "
        "context, vartype "
        "FROM pg_settings WHERE name = ANY(%s)",
        [list(names)],
    ).fetchall()
    cols = ("name", "setting", "unit", "show", "boot_val", "reset_val", "source", "context", "vartype")
    return {r[0]: dict(zip(cols, r, strict=True)) for r in rows}


def plan_settings(conn, tuned: dict | None) -> dict:
    """Which settings the default-vs-tuned comparison sets, to what, and which it skips.

    ``compared``: list of {name, default (boot_val, base unit), tuned, unit, context}.
    ``skipped``: list of {name, tuned, reason}.  ``tuned_source``: ``pg_tune`` (passed in) or
    ``server reset_val`` (the live configuration, when nothing was passed).
    """
    tuned = {str(k).lower(): str(v) for k, v in (tuned or {}).items()}
    source = "pg_tune" if tuned else "server reset_val"
    info = _settings_rows(conn, set(QUERY_SETTINGS) | set(tuned))
    compared, skipped = [], []
    names = [n for n in tuned] if tuned else list(QUERY_SETTINGS)
    for name in names:
        row = info.get(name)
        if row is None:
            skipped.append({"name": name, "tuned": tuned.get(name), "reason": "unknown to this server"})
            continue
        if name not in QUERY_SETTINGS:
            why = (
                f"not session-settable (context {row['context']})"
                if row["context"] not in ("user", "superuser")
                else "does not change how a query runs"
            )
            skipped.append({"name": name, "tuned": tuned.get(name), "reason": why})
            continue
        if row["context"] != "user":
            skipped.append({"name": name, "tuned": tuned.get(name), "reason": f"context {row['context']}"})
            continue
        compared.append(
            {
                "name": name,
                "default": row["boot_val"],
                "tuned": tuned.get(name, row["reset_val"]),
                "unit": row["unit"],
                "context": row["context"],
            }
        )
    return {"tuned_source": source, "compared": compared, "skipped": skipped}


def apply_settings(conn, compared, which: str) -> dict:
    """set_config each compared setting to its ``which`` value; returns the live SHOW values."""
    for s in compared:
        try:
            conn.execute("SELECT set_config(%s, %s, false)", [s["name"], str(s[which])])
        except psycopg.Error as exc:
            raise BenchError(
                f"cannot set {s['name']} = {s[which]!r} ({which}): {' '.join(str(exc).split())}"
            ) from None
    return {s["name"]: scalar(conn, "SELECT current_setting(%s)", [s["name"]]) for s in compared}


def show_settings(conn, extra=()) -> dict:
    """Live SHOW value (plus source) of the tuned settings, on a session at server settings."""
    names = list(dict.fromkeys([*SHOW_SETTINGS, *extra]))
    rows = _settings_rows(conn, names)
    return {
        n: {"value": rows[n]["show"], "source": rows[n]["source"], "boot_val": rows[n]["boot_val"]}
        for n in names
        if n in rows
    }


def compare_settings(conn, default_conn, tuned_conn, tuned: dict | None) -> dict:
    """:func:`plan_settings` read on ``conn``, then the compared settings set to their defaults
    on ``default_conn`` and to their tuned values on ``tuned_conn`` (``default_show`` /
    ``tuned_show``: the live values on those two sessions)."""
    settings = plan_settings(conn, tuned)
    settings["default_show"] = apply_settings(default_conn, settings["compared"], "default")
    settings["tuned_show"] = apply_settings(tuned_conn, settings["compared"], "tuned")
    return settings
