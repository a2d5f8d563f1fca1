"""Query plans and statement statistics: EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of a fast
form, the plan walk and index check (pure), and the top of pg_stat_statements."""

from __future__ import annotations

from ansible.module_utils import vedfin_analytics as va
from ansible.module_utils.vedfin_bench.common import scalar
from ansible.module_utils.vedfin_bench.stats import rounded

try:
    import psycopg
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    psycopg = None

# Parameters that bound a query to a time window.
TIME_PARAMS = frozenset({"days", "months", "weeks", "start_date", "end_date"})
BEHAVIOR_LOG = "BehaviorLog"


def _plan_root(plan):
    """Accept EXPLAIN's JSON as returned ([{"Plan": ...}]), its first item, or a bare node."""
    if isinstance(plan, list):
        if not plan:
            raise ValueError("empty EXPLAIN output")
        plan = plan[0]
    if isinstance(plan, dict) and "Plan" in plan:
        return plan["Plan"]
    if isinstance(plan, dict) and "Node Type" in plan:
        return plan
    raise ValueError("not an EXPLAIN (FORMAT JSON) plan")


def walk_plan(plan) -> dict:
    """Walk a plan tree (iteratively; also InitPlans/SubPlans, which are in ``Plans``).

    Returns ``node_types`` (sorted unique), ``relations`` (sorted unique relation names),
    ``indexes`` (sorted unique index names), ``seq_scans`` (sorted unique relations read by a
    Seq Scan, parallel or not), ``nodes`` (count).
    """
    root = _plan_root(plan)
    node_types, relations, indexes, seq_scans = set(), set(), set(), set()
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        ntype = node.get("Node Type", "?")
        node_types.add(ntype)
        rel = node.get("Relation Name")
        if rel:
            relations.add(rel)
            if ntype == "Seq Scan":
                seq_scans.add(rel)
        if node.get("Index Name"):
            indexes.add(node["Index Name"])
        stack.extend(node.get("Plans") or [])
    return {
        "node_types": sorted(node_types),
        "relations": sorted(relations),
        "indexes": sorted(indexes),
        "seq_scans": sorted(seq_scans),
        "nodes": count,
    }


def is_time_bounded(name: str) -> bool:
    """Whether the registry's query ``name`` has a time-window parameter (:data:`TIME_PARAMS`)."""
    spec = va.QUERIES.get(name)
    return bool(spec) and any(p.name in TIME_PARAMS for p in spec.params)


def index_check(plan, time_bounded: bool) -> dict:
    """:func:`walk_plan` plus ``behaviorlog_seq_scan`` and ``flagged`` (a Seq Scan on
    "BehaviorLog" in a time-bounded query: the window should come from an index or a rollup)."""
    out = walk_plan(plan)
    out["time_bounded"] = bool(time_bounded)
    out["behaviorlog_seq_scan"] = BEHAVIOR_LOG in out["seq_scans"]
    out["flagged"] = out["behaviorlog_seq_scan"] and out["time_bounded"]
    return out


def explain(conn, name: str, params: dict, sql_dir=None) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the fast form of ``name`` (read from
    ``sql_dir``, default the repository's sql/analytics) with ``params``: :func:`index_check`
    plus planning/execution time, the top node's shared blocks; ``{"error", "flagged": False}``
    when the server refuses it."""
    text = va.sql_text(name, "fast", sql_dir).rstrip().rstrip(";")
    try:
        row = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)\n" + text, params).fetchone()
    except psycopg.Error as exc:
        return {"error": " ".join(str(exc).split())[:500], "flagged": False}
    doc = row[0]  # the json column, decoded by psycopg
    top = doc[0]
    out = index_check(doc, is_time_bounded(name))
    plan = top["Plan"]
    out.update(
        {
            "planning_ms": rounded(top.get("Planning Time")),
            "execution_ms": rounded(top.get("Execution Time")),
            "shared_hit_blocks": plan.get("Shared Hit Blocks"),
            "shared_read_blocks": plan.get("Shared Read Blocks"),
            "top_node": plan.get("Node Type"),
        }
    )
    return out


def stat_statements(conn, limit: int = 10) -> dict:
    """The top ``limit`` statements of this database by total execution time; ``available``
    False (with a ``note``) when the extension is missing, the view cannot be read, or the
    login sees other users' statements as hidden."""
    version = scalar(conn, "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if version is None:
        return {
            "available": False,
            "note": "extension pg_stat_statements is not installed in this database",
            "top": [],
        }
    try:
        rows = conn.execute(
            "SELECT queryid::text, calls, round(total_exec_time::numeric, 3), "
            "round(mean_exec_time::numeric, 3), "
            "rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 300) "
            "FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT %s",
            [limit],
        ).fetchall()
    except psycopg.Error as exc:
        return {"available": False, "version": version, "note": " ".join(str(exc).split())[:300], "top": []}
    # Other users' statements read "<insufficient privilege>" without pg_read_all_stats (e.g.
    # a read-only login on a standby in replica mode): a top 10 of blanks is not worth showing.
    hidden = sum(1 for r in rows if r[5] == "<insufficient privilege>")
    if hidden:
        return {
            "available": False,
            "version": version,
            "note": f"{hidden} of the top {len(rows)} statements are hidden from this login "
            "(it needs pg_read_all_stats)",
            "top": [],
        }
    cols = ("queryid", "calls", "total_exec_time_ms", "mean_exec_time_ms", "rows", "query")
    return {
        "available": True,
        "version": version,
        "note": "",
        "top": [{k: va.to_json_safe(v) for k, v in zip(cols, r, strict=True)} for r in rows],
    }
