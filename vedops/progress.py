"""ansible-runner events -> progress state -> one display line. Pure functions, no I/O.

An event is the dict ansible-runner hands to ``event_handler`` (``event``, ``created``,
``stdout``, ``event_data`` with ``play``/``task``/``host``/``res``...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Result counters kept per stage, as ansible's recap names them.
STAT_KEYS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")


@dataclass
class ProgressState:
    stage: str
    started: float  # epoch seconds
    play: str = ""
    task: str = ""
    host: str = ""
    detail: str = ""  # async polling, rows loaded, ...
    rows_loaded: int | None = None
    tasks_done: int = 0
    # the recap (playbook_on_stats) per counter and host
    stats: dict = field(default_factory=dict)
    # human-readable failure lines, in order
    failures: list = field(default_factory=list)


def _rows(res: dict) -> int | None:
    """Rows loaded so far or in total, if the result carries them (vedfin_seed does)."""
    for key in ("rows_loaded", "rows"):
        if isinstance(res.get(key), int):
            return res[key]
    counts = res.get("table_counts")
    if isinstance(counts, dict) and counts:
        return sum(v for v in counts.values() if isinstance(v, int))
    return None


def _failure_line(host: str, task: str, res: dict, kind: str) -> str:
    msg = res.get("msg") or res.get("stderr") or res.get("reason") or ""
    if isinstance(msg, list):
        msg = " ".join(str(m) for m in msg)
    msg = " ".join(str(msg).split())
    return f"{kind}: {host} | {task}" + (f": {msg[:300]}" if msg else "")


def apply_event(state: ProgressState, event: dict) -> str | None:
    """Fold one event into ``state``. Returns a line worth printing on its own (a failure),
    else None."""
    kind = event.get("event", "")
    data = event.get("event_data") or {}
    res = data.get("res") if isinstance(data.get("res"), dict) else {}
    host = data.get("host") or data.get("remote_addr") or ""
    if kind == "playbook_on_play_start":
        state.play, state.task, state.detail = data.get("play", ""), "", ""
    elif kind == "playbook_on_task_start":
        state.task, state.detail = data.get("task", ""), ""
    elif kind == "runner_on_start":
        state.host = host or state.host
    elif kind == "runner_on_async_poll":
        state.host = host or state.host
        state.detail = "running (async)"
        rows = _rows(res)
        if rows is not None:
            state.rows_loaded = rows
    elif kind in ("runner_on_ok", "runner_on_async_ok", "runner_on_skipped"):
        state.host = host or state.host
        state.tasks_done += 1
        rows = _rows(res)
        if rows is not None and "rows_loaded" in res:
            state.rows_loaded = rows
    elif kind in ("runner_on_failed", "runner_on_async_failed"):
        state.tasks_done += 1
        if not data.get("ignore_errors"):
            line = _failure_line(host, data.get("task", state.task), res, "FAILED")
            state.failures.append(line)
            return line
    elif kind == "runner_on_unreachable":
        line = _failure_line(host, data.get("task", state.task), res, "UNREACHABLE")
        state.failures.append(line)
        return line
    elif kind == "playbook_on_stats":
        state.stats = {k: dict(data.get(k) or {}) for k in STAT_KEYS}
        state.task, state.detail = "", "done"
    return None


def totals(state: ProgressState) -> dict:
    """The recap summed over hosts: {"ok": n, "changed": n, "failures": n, ...}."""
    return {k: sum((state.stats.get(k) or {}).values()) for k in STAT_KEYS}


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def render(state: ProgressState, now: float) -> str:
    """One status line: ``[stage 1:23] host | task | detail``."""
    parts = []
    if state.host:
        parts.append(state.host)
    parts.append(state.task or state.play or "starting")
    if state.detail:
        parts.append(state.detail)
    if state.rows_loaded is not None:
        parts.append(f"rows loaded {state.rows_loaded:,}")
    return f"[{state.stage} {_clock(now - state.started)}] " + " | ".join(parts)
