#!/usr/bin/env python3
"""Generate the per-domain ERDs (docs/schema/erd-<domain>.md) from a live catalog.

    tools/erd.py --dsn "host=... port=5432 user=... password=... dbname=vedfin" --out docs/schema
    tools/erd.py --throwaway --out docs/schema            # make erd
    tools/erd.py --throwaway --out docs/schema --check    # CI drift check (make lint)

``--throwaway`` starts a throwaway PostgreSQL 15 (tests/servers.py), loads sql/schema/*.sql,
applies sql/migrations with vedfin_migrate, generates and tears the server down.  ``--check``
writes nothing: it prints a unified diff of every file that differs from the regeneration
(and names stale ``erd-*.md`` files no domain produces) and exits 1; 0 when up to date.
The rendering rules are in module_utils/vedfin_erd.py; docs/schema/README.md explains them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import module_utils_path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:  # tests/servers.py, for --throwaway
    sys.path.insert(0, str(ROOT / "tests"))
module_utils_path.register()

from ansible.module_utils import vedfin_erd, vedfin_migrate  # noqa: E402
from ansible.module_utils.vedfin_pg import VedfinError, connect_libpq  # noqa: E402

THROWAWAY_DB = "vedfin_erd"


def load_reference_schema(conn) -> dict:
    """sql/schema/*.sql then the ops migrations, on an empty database (autocommit conn)."""
    for sql_file in sorted((ROOT / "sql" / "schema").glob("*.sql")):
        conn.execute(sql_file.read_text(encoding="utf-8").encode("utf-8"))
    return vedfin_migrate.apply(conn, ROOT / "sql" / "migrations")


def generate_from_target(target, schemas, domains, only) -> dict:
    """ERDs from the catalog of ``target`` (libpq keywords, or a --dsn string: every keyword it
    holds, TLS ones included, is used as given)."""
    conn = connect_libpq(target, autocommit=True, application_name="ved-db-ops tools/erd.py")
    try:
        catalog = vedfin_erd.read_catalog(conn, schemas)
    finally:
        conn.close()
    return vedfin_erd.generate(catalog, domains, only)


def generate_throwaway(schemas, domains, only) -> dict:
    from servers import destroy_postgres, start_postgres

    server = start_postgres()
    try:
        with connect_libpq(server.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{THROWAWAY_DB}"')
        target = server.conninfo(THROWAWAY_DB)
        with connect_libpq(target, autocommit=True) as conn:
            load_reference_schema(conn)
        return generate_from_target(target, schemas, domains, only)
    finally:
        destroy_postgres(server)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--dsn", help="libpq connection string of the database to draw")
    src.add_argument(
        "--throwaway",
        action="store_true",
        help="start a throwaway PostgreSQL with sql/schema + sql/migrations and draw that",
    )
    ap.add_argument("--out", default="docs/schema", help="output directory (default: docs/schema)")
    ap.add_argument(
        "--schema",
        action="append",
        dest="schemas",
        help="schema to read (repeatable; default: public)",
    )
    ap.add_argument("--domain", action="append", dest="only", help="render only this domain (repeatable)")
    ap.add_argument(
        "--domains-file", help="JSON file with the domain map {domain: [tables]} (default: built in)"
    )
    ap.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 with a diff when files differ"
    )
    args = ap.parse_args(argv)

    schemas = args.schemas or ["public"]
    try:
        domains = None
        if args.domains_file:
            try:
                domains = json.loads(Path(args.domains_file).read_text(encoding="utf-8"))
            except ValueError as exc:
                raise VedfinError(f"--domains-file {args.domains_file} is not valid JSON: {exc}") from None
        if args.throwaway:
            result = generate_throwaway(schemas, domains, args.only)
        else:
            result = generate_from_target(args.dsn, schemas, domains, args.only)
        sync = vedfin_erd.sync_files(args.out, result["files"], check_mode=args.check)
    except (VedfinError, OSError, ValueError) as exc:
        print(f"erd: error: {exc}", file=sys.stderr)
        return 2
    for warning in result["warnings"]:
        print(f"erd: warning: {warning}", file=sys.stderr)
    stale = sync["stale"] if not args.only else []
    if args.check:
        for path in sync["files"]:
            sys.stdout.write(sync["diffs"][path])
        for path in stale:
            print(f"erd: {path} is not produced by any domain (stale): remove it")
        if sync["files"] or stale:
            print(
                "erd: {} differ from the live catalog; regenerate with: make erd".format(
                    ", ".join(sync["files"] + stale)
                ),
                file=sys.stderr,
            )
            return 1
        print(f"erd: {len(sync['unchanged'])} file(s) in {args.out} are up to date")
        return 0
    for path in stale:
        print(f"erd: warning: {path} is not produced by any domain (stale): remove it", file=sys.stderr)
    for path in sync["files"]:
        print(f"erd: wrote {path}")
    print(f"erd: {len(sync['files'])} written, {len(sync['unchanged'])} unchanged in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
