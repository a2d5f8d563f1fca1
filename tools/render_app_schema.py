#!/usr/bin/env python3
"""Render the application's Prisma schema into sql/schema/001_app_schema.sql, with Prisma's own
schema engine (tools/prisma_render, pinned in its package-lock.json).

    tools/render_app_schema.py path/to/v-edfinance/apps/api/prisma/schema.prisma --commit d898e56

The engine needs a live PostgreSQL for its version and features, so a throwaway one is
started (tests/servers.py); nothing is written to it. ``OptimizationLog`` is left out: its
``embedding vector(384)`` column needs the pgvector extension, and no ops object reads it
(docs/schema/README.md, "The application's schema").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RENDER_DIR = ROOT / "tools" / "prisma_render"
OUT = ROOT / "sql" / "schema" / "001_app_schema.sql"
DROPPED_MODELS = ("OptimizationLog",)

HEADER = """\
-- The V-EdFinance application's schema, as `prisma migrate` creates it (owned by the app).
-- Rendered by tools/render_app_schema.py with Prisma's schema engine from
-- apps/api/prisma/schema.prisma of Luahoa/v-edfinance at commit {commit}; do not edit by hand.
-- Prisma's rules, as rendered below: String @id -> TEXT with no database default (the client
-- makes the uuid); DateTime -> TIMESTAMP(3) without time zone, holding UTC wall-clock values;
-- @default(now()) -> DEFAULT CURRENT_TIMESTAMP; @updatedAt -> no database default (the client
-- sets it); optional fields (Float?, String?, DateTime?, Json?) -> nullable; Json -> JSONB;
-- enums -> CREATE TYPE; relations -> foreign keys ON UPDATE CASCADE.
-- Left out: model{s} {dropped} (its vector(384) column needs pgvector; no ops object reads it).
-- Ops-owned additions never go here: they live in sql/migrations/.

"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("schema", type=Path, help="the application's schema.prisma")
    ap.add_argument("--commit", required=True, help="upstream commit the schema comes from (for the header)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not args.schema.is_file():
        ap.error(f"schema: no such file: {args.schema}")

    sys.path.insert(0, str(ROOT / "tests"))
    from servers import destroy_postgres, start_postgres

    if not (RENDER_DIR / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=RENDER_DIR, check=True)
    server = start_postgres()
    try:
        url = "postgresql://{user}:{password}@{host}:{port}/postgres".format(**server.conninfo())
        drop = [a for m in DROPPED_MODELS for a in ("--drop-model", m)]
        sql = subprocess.run(
            ["node", "render.mjs", str(args.schema.resolve()), *drop],
            cwd=RENDER_DIR,
            env={**os.environ, "DATABASE_URL": url},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        destroy_postgres(server)
    header = HEADER.format(
        commit=args.commit,
        s="s" if len(DROPPED_MODELS) > 1 else "",
        dropped=", ".join(DROPPED_MODELS),
    )
    args.out.write_text(header + sql.rstrip("\n") + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({sql.count('CREATE TABLE')} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
