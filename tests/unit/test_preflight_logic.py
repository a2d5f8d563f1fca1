"""Pure parts of module_utils/vedfin_preflight.py: message format, compare() on catalog facts,
and EXPECTED kept in step with the ops SQL."""

from __future__ import annotations

from pathlib import Path

from ansible.module_utils import vedfin_preflight
from ansible.module_utils.vedfin_preflight import EXPECTED, Column, compare, format_problems, problem

ROOT = Path(__file__).resolve().parents[2]
OPS_SQL = "\n".join(
    p.read_text() for d in ("migrations", "analytics") for p in sorted((ROOT / "sql" / d).glob("*.sql"))
)


def facts_from_expected() -> tuple[dict, dict]:
    """A catalog that satisfies EXPECTED exactly (first accepted type, NOT NULL everywhere)."""
    tables = {t: {c: (spec.types[0], True) for c, spec in cols.items()} for t, cols in EXPECTED.items()}
    enums = {name: list(labels) for name, labels in vedfin_preflight.KNOWN_LABELS.items()}
    return tables, enums


def test_problem_format():
    assert (
        problem("User", "points", "text", ("integer",)) == "User.points: found text, expected one of integer"
    )
    assert (
        problem("User", "createdAt", "date", ("timestamp without time zone", "timestamp with time zone"))
        == "User.createdAt: found date, expected one of timestamp without time zone, timestamp with time zone"
    )
    assert (
        problem("Lesson", None, "no such table", "a table") == "Lesson: found no such table, expected a table"
    )
    assert format_problems(["a", "b"]) == "app schema preflight failed:\na\nb"


def test_quote_ident_matches_postgres_rendering():
    assert vedfin_preflight.quote_ident("Role") == '"Role"'
    assert vedfin_preflight.quote_ident("role") == "role"
    assert vedfin_preflight.quote_ident('a"b') == '"a""b"'


def test_compare_accepts_a_matching_catalog_and_nullable_where_allowed():
    tables, enums = facts_from_expected()
    assert compare(tables, enums) == {"ok": True, "problems": [], "warnings": []}
    tables["UserProgress"]["progressPercentage"] = ("double precision", False)
    tables["BehaviorLog"]["userId"] = ("text", False)
    tables["BehaviorLog"]["timestamp"] = ("timestamp with time zone", True)
    assert compare(tables, enums)["ok"] is True


def test_compare_reports_type_and_nullability_of_one_column_separately():
    tables, enums = facts_from_expected()
    tables["User"]["points"] = ("bigint", False)
    assert compare(tables, enums)["problems"] == [
        "User.points: found bigint, expected one of integer",
        "User.points: found nullable, expected one of NOT NULL",
    ]


def test_compare_with_a_custom_expectation():
    expected = {"T": {"a": Column(("text",), True), "b": vedfin_preflight.enum("Role", False)}}
    verdict = compare({"T": {"b": ('"Role"', False)}}, {"Role": ["TEACHER"]}, expected)
    assert verdict["problems"] == [
        "T.a: found no such column, expected one of text",
        "T.b: found \"Role\" with labels ('TEACHER') without 'STUDENT', "
        "expected one of \"Role\" with labels including 'STUDENT'",
    ]


def test_every_expected_table_and_column_is_read_by_the_ops_sql():
    """EXPECTED must not go stale: each entry appears quoted in sql/migrations or sql/analytics."""
    for table, columns in EXPECTED.items():
        assert f'"{table}"' in OPS_SQL, table
        for column in columns:
            assert f'"{column}"' in OPS_SQL, f"{table}.{column}"


def test_required_and_known_labels_are_used_consistently():
    for name, required in vedfin_preflight.REQUIRED_LABELS.items():
        assert set(required) <= set(vedfin_preflight.KNOWN_LABELS[name])
    for label in ("STUDENT", "COMPLETED", "STARTED", "IN_PROGRESS"):
        assert f"'{label}'" in OPS_SQL
