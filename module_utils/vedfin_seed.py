"""Deterministic, resumable, fast seeder for the V-EdFinance application schema.

Plain Python (no Ansible API): ``library/vedfin_seed.py`` is a thin shell over
:func:`seed`, and tests/tools call it directly (``ansible.module_utils.vedfin_seed``, the
modules' import name; see module_utils/vedfin_pg.py).

What it writes
    The twelve application tables of ``sql/schema/001_app_schema.sql`` that the analytics
    read (DOMAIN.md; the app's other tables are emptied, ``TRUNCATE ... CASCADE``), every NOT
    NULL column filled as Prisma's client would (text uuids, ``updatedAt``, required JSON), FK
    consistent, with the app's NULLs (``NULL_PROGRESS_SHARE`` of progress rows without
    ``progressPercentage``, ``NULL_CATEGORY_SHARE`` of events without ``actionCategory``,
    page views without ``duration``, most users without ``dateOfBirth`` or
    ``preferredLanguage``) and realistic distributions: Zipf-like course popularity, log-normal
    (heavy-tailed) user activity, evening peaks and a weekend dip in event times
    (Asia/Ho_Chi_Minh local time), ~10 % churning students, ~3 % anonymous BehaviorLog
    sessions, Vietnamese-first ``{vi,en,zh}`` names, progress consistent with enrollments
    (lessons 1..k-1 COMPLETED, lesson k STARTED/IN_PROGRESS), streaks/points/achievements
    derived from the generated activity.  Course slugs include prefix pairs
    (``investing`` / ``investing-advanced``, ``saving`` / ``saving-goals``) so that path
    matching in analytics is exercised.

Determinism
    The identity of a seed is ``(preset, seed, users, courses, behavior_logs, days,
    anchor_date, generator version)``.  Same identity -> byte-identical table contents
    (``table_checksums``), whatever the chunk size or whether the load was interrupted and
    resumed.  Timestamps are relative to ``anchor_date`` (data covers
    ``[anchor - days, anchor)``), never to ``now()``.  ``anchor_date`` defaults to *today*
    (UTC) for a fresh seed so that "last 30 days" analytics see data; when it is omitted and
    the database already holds a seed with the same other parameters, that seed's recorded
    anchor is reused (so a rerun on the next day is still a no-op).  Random streams come
    from numpy's PCG64 seeded with ``SeedSequence([seed, stream, block])``: identical across
    machines for one numpy major version.

Speed
    Rows are generated vectorised with numpy and assembled directly into PostgreSQL COPY
    text (no per-row Python for the big tables), streamed with ``COPY ... FROM STDIN`` by a
    writer thread while the next buffers are generated.  Before the load the secondary
    indexes and FK constraints of the app tables and the primary keys of the big tables
    (BehaviorLog, UserProgress) are dropped (their exact DDL is saved in the ledger first)
    and recreated afterwards on one session per CPU (maintenance_work_mem 1GB, biggest
    first, primary keys first); then ANALYZE (in the same session pool).  The first step
    loading a table empties it again in its own transaction and uses ``COPY ... (FREEZE)``:
    those rows land frozen and all-visible, so the index builds do not rewrite their pages
    to set hint bits.  ``phases`` in the result times each part (generation, COPY per
    table, each index, constraints, ANALYZE, rollups).

Rollups
    When the database has the ops rollups (``ops.rebuild_behavior_rollups``,
    ``ops.rebuild_enrollment``, ``ops.rebuild_calendar``, ``ops.rebuild_progress``,
    ``ops.rebuild_user_cohort``, ``ops.rebuild_level_progress``, ``ops.rebuild_user_score``:
    sql/migrations/0003, 0004, 0006, 0008, 0009, 0010; ``ROLLUP_REBUILDS``),
    their triggers on BehaviorLog/UserProgress/User/UserStreak/UserAchievement would make
    the load ~3x slower.  A superuser seeder loads
    with ``SET session_replication_role = replica`` in its own session only (no trigger
    fires there; nothing global changes, a crash takes the setting with it; never ALTER
    TABLE ... DISABLE TRIGGER).  The initial TRUNCATE runs before that, so the rollups'
    TRUNCATE triggers empty them.  The finish then calls the rebuild functions (in the
    index-build pool, the rollup tables' own indexes dropped and rebuilt around them in the
    same transaction) before the ledger says 'complete'; a resumed load rebuilds again, so
    a complete seed always has exact rollups.  Without superuser rights the triggers fire
    (slow but exact) and ``warnings`` says so.

Resumability
    The load is a list of steps (``base`` = the small tables, ``UserProgress:k``,
    ``BehaviorLog:k``); each step is one transaction that also appends the step to the
    ledger, so a killed load leaves only whole steps behind.  Rerunning the same call
    resumes after the last committed step and ends with exactly the same rows.

Ledger
    ``ops.seed_ledger`` (schema ``ops`` is created if missing): one row per seed with its
    params, status (loading/complete/replaced), steps done, saved DDL, per-table counts,
    timings and bytes.  At most one row is loading/complete at a time.

Public API
    ``PRESETS``, ``APP_TABLES``, ``normalize_params(...)``, ``seed(conn_params, ...)``,
    ``table_checksums(conn, tables=None)``, ``table_counts(conn, tables=None)``,
    ``SeedError`` (a ``VedfinError``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import sys
import time

from ansible.module_utils.vedfin_pg import VedfinError, connect

try:
    from psycopg.copy import QueuedLibpqWriter
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    QueuedLibpqWriter = None

try:
    import numpy as np

    HAS_NUMPY = True
except ImportError:  # pragma: no cover - reported by the module via missing_required_lib
    np = None
    HAS_NUMPY = False

GENERATOR_VERSION = 2  # 2: the app's real schema (issue 16) and its NULLs

PRESETS = {
    "demo": {"users": 200, "courses": 25, "behavior_logs": 6000, "days": 30},
    "staging": {"users": 10_000, "courses": 100, "behavior_logs": 1_000_000, "days": 180},
    "large": {"users": 100_000, "courses": 500, "behavior_logs": 10_000_000, "days": 365},
}

# Upper bounds: anything above is a typo, not a plan.
LIMITS = {"users": 10**8, "courses": 10**5, "behavior_logs": 10**9, "days": 3650}
COUNT_KEYS = ("users", "courses", "behavior_logs", "days")

# Parent tables first: the order of the load and of the checks.
APP_TABLES = (
    "User",
    "Course",
    "Lesson",
    "Achievement",
    "BuddyGroup",
    "UserProgress",
    "BehaviorLog",
    "UserStreak",
    "UserAchievement",
    "BuddyMember",
    "SocialPost",
    "UserRelationship",
)
# Tables loaded in chunks; their secondary indexes and FKs are dropped during the load.
BIG_TABLES = ("UserProgress", "BehaviorLog")

DEFAULT_CHUNK_ROWS = 500_000
SESSIONS_PER_BLOCK = 1024  # BehaviorLog randomness unit: content never depends on chunking
LEDGER = "ops.seed_ledger"
_LOCK_KEY = 0x7665645F73656564  # "ved_seed": advisory lock, one seeder per database

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
LOCAL_OFFSET_MS = 7 * HOUR_MS  # Asia/Ho_Chi_Minh, no DST

_STREAM = {
    "course": 1,
    "lesson": 2,
    "user": 3,
    "enroll": 4,
    "progress": 5,
    "session": 6,
    "log": 7,
    "streak": 8,
    "achievement": 9,
    "group": 10,
    "post": 11,
    "relation": 12,
    # issue 16: the app's optional columns, in streams of their own so the others keep their rows
    "user_optional": 13,
    "progress_null": 14,
    "log_category": 15,
}
# Share of rows with NULL in the app's nullable columns the analytics read (issue 16): progress
# rows whose client never sent progressPercentage (Float?), events without actionCategory.
NULL_PROGRESS_SHARE = 0.04
NULL_CATEGORY_SHARE = 0.06


class SeedError(VedfinError):
    """A refusal or failure of the seeder; the message names the cause."""


# Environments whose data may be replaced by a seed (compared case-insensitively). staging is
# not on it: a staging database often holds a copy of real data; mark it with
# seed_disposable: true in its inventory when its data may go.
DISPOSABLE_ENVIRONMENTS = ("local", "dev", "ci", "test", "demo")
# Words that name a production environment; checked per word, so prod-eu or eu-live count.
PRODUCTION_WORDS = frozenset({"production", "prod", "prd", "live"})


def check_environment(environment, disposable=False, allow_production=False) -> str:
    """The normalized environment name if seeding (which replaces the application data) may
    run there; SeedError naming the variable and the allowed values otherwise.

    Allowed: a name on ``DISPOSABLE_ENVIRONMENTS``, or any other named environment explicitly
    marked ``disposable`` (inventory ``seed_disposable: true``). A name with a production
    word (production, prod, prd, live; also inside prod-eu, eu_live, ...) needs the marker
    and ``allow_production`` both. Missing or empty is refused.
    """
    allowed = ", ".join(DISPOSABLE_ENVIRONMENTS)
    how = (
        f"set vedfin_environment (module option environment) to one of {allowed}, or mark the "
        "environment disposable with seed_disposable: true in its inventory (module option disposable)"
    )
    name = "" if environment is None else str(environment).strip().lower()
    if not name:
        got = "missing" if environment is None else f"empty ({environment!r})"
        _refuse(f"refusing to seed: the environment is {got}; seeding replaces the application data: {how}")
    words = set(re.split(r"[^a-z0-9]+", name))
    if words & PRODUCTION_WORDS:
        if disposable and allow_production:
            return name
        _refuse(
            f"refusing to seed environment {environment!r}: it names a production environment "
            f"({', '.join(sorted(words & PRODUCTION_WORDS))}) and seeding replaces the application data; "
            f"seeding runs only where vedfin_environment is one of {allowed} or seed_disposable is true; "
            "a production database also needs allow_production=true together with seed_disposable: true"
        )
    if name in DISPOSABLE_ENVIRONMENTS or disposable:
        return name
    _refuse(
        f"refusing to seed environment {environment!r}: it is not marked disposable and seeding "
        f"replaces the application data: {how}"
    )
    return name  # not reached


# ------------------------------------------------------------------------------------------
# Parameters
# ------------------------------------------------------------------------------------------


def _today() -> _dt.date:
    return _dt.datetime.now(_dt.UTC).date()


def _as_int(name, value):
    if isinstance(value, bool):
        raise SeedError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value.strip())
    raise SeedError(f"{name} must be an integer, got {value!r}")


def normalize_params(
    preset="demo",
    seed=1,
    users=None,
    courses=None,
    behavior_logs=None,
    days=None,
    anchor_date=None,
):
    """Validate and canonicalise the identity of a seed.  Raises SeedError naming the input.

    Returns a dict with every key filled except possibly ``anchor_date`` (None = decide
    later: the recorded anchor of a matching seed, else today).
    """
    if preset is None:
        preset = "custom"
    if preset != "custom" and preset not in PRESETS:
        raise SeedError(
            "unknown preset {!r}: choose one of {} (or 'custom' with explicit counts)".format(
                preset, ", ".join(sorted(PRESETS))
            )
        )
    base = dict(PRESETS.get(preset, {}))
    given = {"users": users, "courses": courses, "behavior_logs": behavior_logs, "days": days}
    out = {"preset": preset}
    seed = _as_int("seed", seed)
    if not 0 <= seed < 2**63:
        raise SeedError(f"seed must be between 0 and 2**63-1, got {seed}")
    out["seed"] = seed
    for key in COUNT_KEYS:
        value = given[key] if given[key] is not None else base.get(key)
        if value is None:
            raise SeedError(f"preset 'custom' needs an explicit {key}")
        value = _as_int(key, value)
        if value < 1:
            raise SeedError(f"{key} must be at least 1, got {value}")
        if value > LIMITS[key]:
            raise SeedError(f"{key}={value} is absurd (limit {LIMITS[key]})")
        out[key] = value
    if anchor_date is not None and anchor_date != "":
        if isinstance(anchor_date, _dt.datetime):
            anchor_date = anchor_date.date()
        if not isinstance(anchor_date, _dt.date):
            try:
                anchor_date = _dt.date.fromisoformat(str(anchor_date).strip())
            except ValueError:
                raise SeedError(f"anchor_date must be an ISO date YYYY-MM-DD, got {anchor_date!r}") from None
        if (
            not _dt.date(2000, 1, 1) + _dt.timedelta(days=out["days"] + 400)
            <= anchor_date
            <= _dt.date(2200, 1, 1)
        ):
            raise SeedError(f"anchor_date {anchor_date} is out of range")
        out["anchor_date"] = anchor_date.isoformat()
    else:
        out["anchor_date"] = None
    out["generator"] = GENERATOR_VERSION
    return out


def _identity(params):
    return {k: params[k] for k in ("preset", "seed", *COUNT_KEYS, "anchor_date", "generator")}


def _without_anchor(params):
    return {k: v for k, v in _identity(params).items() if k != "anchor_date"}


# ------------------------------------------------------------------------------------------
# COPY text assembly (vectorised)
# ------------------------------------------------------------------------------------------

_HEX = None
_UUID_COLS = None


def _rng(seed, stream, *more):
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, _STREAM[stream], *more])))


def _uuid_mat(rng, n):
    """n random version-4 UUIDs as an (n, 36) uint8 matrix of lowercase text."""
    global _HEX, _UUID_COLS
    if _HEX is None:
        _HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
        _UUID_COLS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    hx = np.empty((n, 32), dtype=np.uint8)
    hx[:, 0::2] = _HEX[b >> 4]
    hx[:, 1::2] = _HEX[b & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _UUID_COLS] = hx
    return out


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _jdump(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class _Vocab:
    """A list of strings as a padded byte matrix, for categorical columns."""

    def __init__(self, strings, escape=True):
        encoded = [(_copy_escape(s) if escape else s).encode() for s in strings]
        width = max(1, max((len(e) for e in encoded), default=1))
        self.mat = np.zeros((len(encoded), width), dtype=np.uint8)
        self.lens = np.zeros(len(encoded), dtype=np.int64)
        for i, e in enumerate(encoded):
            self.mat[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
            self.lens[i] = len(e)

    def piece(self, codes):
        return (self.mat[codes], self.lens[codes], False)


def _const(n, text: str):
    raw = np.frombuffer(text.encode(), dtype=np.uint8)
    return (np.broadcast_to(raw, (n, raw.size)), None, False)


def _fixed(mat):
    return (mat, None, False)


def _int_piece(values, present=None):
    """Non-negative ints as right-aligned decimal digits; rows not ``present`` are empty."""
    values = np.asarray(values, dtype=np.int64)
    n = values.size
    width = max(1, len(str(int(values.max()))) if n else 1)
    mat = np.empty((n, width), dtype=np.uint8)
    v = values.copy()
    for col in range(width - 1, -1, -1):
        mat[:, col] = 48 + (v % 10)
        v //= 10
    lens = np.ones(n, dtype=np.int64)
    bound = 10
    for _ in range(width - 1):
        lens += values >= bound
        bound *= 10
    if present is not None:
        lens = np.where(present, lens, 0)
    return (mat, lens, True)


def _null_piece(n):
    return _const(n, "\\N")


def _nullable(piece, null_mask):
    """Replace the rows of a piece where ``null_mask`` by ``\\N``."""
    mat, lens, right = piece
    n, width = mat.shape
    if not null_mask.any():
        return piece
    if lens is None:
        lens = np.full(n, width, dtype=np.int64)
    if width < 2:
        pad = np.zeros((n, 2 - width), dtype=np.uint8)
        mat = np.concatenate([pad, mat] if right else [mat, pad], axis=1)
        width = 2
    mat = np.array(mat, copy=True)
    lens = np.array(lens, copy=True)
    if right:
        mat[null_mask, width - 2 :] = (92, 78)
    else:
        mat[null_mask, :2] = (92, 78)
    lens[null_mask] = 2
    return (mat, lens, right)


def _nullable_pieces(pieces, null_mask):
    """A column made of several pieces, ``\\N`` where ``null_mask``: the first piece says it,
    the others are empty there."""
    if not null_mask.any():
        return pieces
    first, *rest = pieces
    out = [_nullable(first, null_mask)]
    for mat, lens, right in rest:
        full = np.full(mat.shape[0], mat.shape[1], dtype=np.int64) if lens is None else lens
        out.append((mat, np.where(null_mask, 0, full), right))
    return out


def _ts_piece(ms, null_mask=None):
    """Epoch milliseconds -> ``YYYY-MM-DD HH:MM:SS.mmm+00`` (fixed width 26)."""
    ms = np.asarray(ms, dtype=np.int64)
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").astype("S23")
    mat = np.empty((ms.size, 26), dtype=np.uint8)
    mat[:, :23] = text.view(np.uint8).reshape(-1, 23)
    mat[:, 10] = 32
    mat[:, 23:] = np.frombuffer(b"+00", dtype=np.uint8)
    piece = (mat, None, False)
    return piece if null_mask is None else _nullable(piece, null_mask)


def _float1_pieces(tenths):
    """Non-negative numbers given in tenths -> ``int.d`` text, as pieces."""
    tenths = np.asarray(tenths, dtype=np.int64)
    n = tenths.size
    return [_int_piece(tenths // 10), _const(n, "."), _int_piece(tenths % 10)]


def _assemble(columns, n):
    """Columns (each a piece or a list of pieces) -> COPY text bytes for n rows."""
    pieces = []
    for i, col in enumerate(columns):
        if i:
            pieces.append(_const(n, "\t"))
        pieces.extend(col if isinstance(col, list) else [col])
    pieces.append(_const(n, "\n"))
    mats, masks = [], []
    for mat, lens, right in pieces:
        width = mat.shape[1]
        mats.append(mat)
        if lens is None:
            masks.append(np.ones((1, width), dtype=bool).repeat(n, axis=0))
        else:
            ar = np.arange(width)
            masks.append(ar >= (width - lens)[:, None] if right else ar < lens[:, None])
    big = np.concatenate(mats, axis=1)
    mask = np.concatenate(masks, axis=1)
    return big[mask].tobytes()


def _py_copy(rows):
    """Python rows -> COPY text (for the small tables)."""
    out = []
    for row in rows:
        fields = []
        for v in row:
            if v is None:
                fields.append("\\N")
            elif isinstance(v, bool):
                fields.append("t" if v else "f")
            elif isinstance(v, (dict, list)):
                fields.append(_copy_escape(_jdump(v)))
            elif isinstance(v, str):
                fields.append(_copy_escape(v))
            else:
                fields.append(str(v))
        out.append("\t".join(fields))
    return ("\n".join(out) + "\n").encode() if out else b""


def _ms_text(ms) -> str:
    return _tsl([ms])[0]


def _tsl(ms):
    """Epoch milliseconds -> list of COPY timestamptz strings (None where negative)."""
    ms = np.asarray(ms, dtype=np.int64)
    text = np.char.add(np.datetime_as_string(np.maximum(ms, 0).astype("datetime64[ms]"), unit="ms"), "+00")
    out = [t.replace("T", " ") for t in text.tolist()]
    if (ms < 0).any():
        out = [None if m < 0 else t for m, t in zip(ms.tolist(), out, strict=True)]
    return out


# ------------------------------------------------------------------------------------------
# Vocabulary
# ------------------------------------------------------------------------------------------

FAMILY = [
    ("Nguyễn", "Nguyen", "阮", 38),
    ("Trần", "Tran", "陈", 11),
    ("Lê", "Le", "黎", 9),
    ("Phạm", "Pham", "范", 7),
    ("Hoàng", "Hoang", "黄", 5),
    ("Huỳnh", "Huynh", "黄", 4),
    ("Phan", "Phan", "潘", 4),
    ("Vũ", "Vu", "武", 4),
    ("Võ", "Vo", "武", 3),
    ("Đặng", "Dang", "邓", 2),
    ("Bùi", "Bui", "裴", 2),
    ("Đỗ", "Do", "杜", 2),
    ("Hồ", "Ho", "胡", 2),
    ("Ngô", "Ngo", "吴", 2),
    ("Dương", "Duong", "杨", 2),
    ("Lý", "Ly", "李", 1),
]
MIDDLE = [
    ("Văn", "Van", "文"),
    ("Thị", "Thi", "氏"),
    ("Đức", "Duc", "德"),
    ("Minh", "Minh", "明"),
    ("Ngọc", "Ngoc", "玉"),
    ("Thanh", "Thanh", "清"),
    ("Hữu", "Huu", "有"),
    ("Gia", "Gia", "嘉"),
    ("Quốc", "Quoc", "国"),
    ("Bảo", "Bao", "宝"),
]
GIVEN = [
    ("An", "An", "安"),
    ("Bình", "Binh", "平"),
    ("Châu", "Chau", "珠"),
    ("Dũng", "Dung", "勇"),
    ("Hà", "Ha", "河"),
    ("Hải", "Hai", "海"),
    ("Hạnh", "Hanh", "幸"),
    ("Hương", "Huong", "香"),
    ("Khoa", "Khoa", "科"),
    ("Lan", "Lan", "兰"),
    ("Linh", "Linh", "玲"),
    ("Long", "Long", "龙"),
    ("Mai", "Mai", "梅"),
    ("Minh", "Minh", "明"),
    ("Nam", "Nam", "南"),
    ("Ngọc", "Ngoc", "玉"),
    ("Phương", "Phuong", "芳"),
    ("Quân", "Quan", "军"),
    ("Quang", "Quang", "光"),
    ("Sơn", "Son", "山"),
    ("Tâm", "Tam", "心"),
    ("Thảo", "Thao", "草"),
    ("Thu", "Thu", "秋"),
    ("Trang", "Trang", "庄"),
    ("Trung", "Trung", "忠"),
    ("Tuấn", "Tuan", "俊"),
    ("Vân", "Van", "云"),
    ("Việt", "Viet", "越"),
    ("Yến", "Yen", "燕"),
    ("Hiếu", "Hieu", "孝"),
    ("Khánh", "Khanh", "庆"),
    ("Phúc", "Phuc", "福"),
]
# slug, vi, en, zh, level (None = random).  investing/investing-advanced and saving/
# saving-goals are prefix pairs on purpose (analytics must match path segments exactly).
TOPICS = [
    ("investing", "Đầu tư", "Investing", "投资", "BEGINNER"),
    ("investing-advanced", "Đầu tư nâng cao", "Advanced Investing", "高级投资", "EXPERT"),
    ("saving", "Tiết kiệm", "Saving", "储蓄", "BEGINNER"),
    ("saving-goals", "Tiết kiệm theo mục tiêu", "Goal-based Saving", "目标储蓄", "INTERMEDIATE"),
    ("budgeting", "Lập ngân sách", "Budgeting", "预算管理", "BEGINNER"),
    ("personal-finance", "Tài chính cá nhân", "Personal Finance", "个人理财", "BEGINNER"),
    ("stock-market", "Thị trường chứng khoán", "The Stock Market", "股票市场", None),
    ("bonds", "Trái phiếu", "Bonds", "债券", None),
    ("mutual-funds", "Quỹ mở", "Mutual Funds", "共同基金", None),
    ("crypto-basics", "Tiền mã hoá cơ bản", "Crypto Basics", "加密货币基础", "BEGINNER"),
    ("credit-cards", "Thẻ tín dụng", "Credit Cards", "信用卡", None),
    ("debt-management", "Quản lý nợ", "Debt Management", "债务管理", None),
    ("emergency-fund", "Quỹ khẩn cấp", "Emergency Fund", "应急基金", "BEGINNER"),
    ("insurance", "Bảo hiểm", "Insurance", "保险", None),
    ("retirement", "Kế hoạch hưu trí", "Retirement Planning", "退休规划", None),
    ("taxes", "Thuế thu nhập cá nhân", "Personal Income Tax", "个人所得税", None),
    ("real-estate", "Bất động sản", "Real Estate", "房地产", None),
    ("gold", "Đầu tư vàng", "Investing in Gold", "黄金投资", None),
    ("digital-banking", "Ngân hàng số", "Digital Banking", "数字银行", "BEGINNER"),
    ("entrepreneurship", "Khởi nghiệp", "Entrepreneurship", "创业", None),
    ("financial-planning", "Hoạch định tài chính", "Financial Planning", "财务规划", None),
]
QUALIFIERS = [
    ("basics", "cơ bản", "Basics", "基础", "BEGINNER"),
    ("for-students", "cho sinh viên", "for Students", "学生版", "BEGINNER"),
    ("intermediate", "trung cấp", "Intermediate", "中级", "INTERMEDIATE"),
    ("in-practice", "thực hành", "in Practice", "实战", "INTERMEDIATE"),
    ("advanced", "nâng cao", "Advanced", "高级", "EXPERT"),
    ("masterclass", "chuyên sâu", "Masterclass", "大师课", "EXPERT"),
]
LESSON_TOPICS = [
    ("Giới thiệu", "Introduction", "导论"),
    ("Khái niệm cơ bản", "Key concepts", "基本概念"),
    ("Lãi suất kép", "Compound interest", "复利"),
    ("Rủi ro và lợi nhuận", "Risk and return", "风险与收益"),
    ("Đa dạng hoá", "Diversification", "分散投资"),
    ("Lập kế hoạch", "Making a plan", "制定计划"),
    ("Tình huống thực tế", "Case study", "案例分析"),
    ("Sai lầm thường gặp", "Common mistakes", "常见错误"),
    ("Công cụ hữu ích", "Useful tools", "实用工具"),
    ("Thói quen tài chính", "Money habits", "理财习惯"),
    ("Ôn tập", "Review", "复习"),
    ("Bài kiểm tra", "Quiz", "测验"),
    ("Dự án nhỏ", "Mini project", "小项目"),
    ("Hỏi đáp", "Q&A", "问答"),
    ("Tổng kết", "Wrap-up", "总结"),
]
LEVELS = ("BEGINNER", "INTERMEDIATE", "EXPERT")
LESSON_TYPES = ("VIDEO", "READING", "QUIZ", "INTERACTIVE")
PRICES = (0, 0, 99_000, 149_000, 199_000, 299_000, 499_000)

ACHIEVEMENTS = [
    # key, vi, en, zh, points, tier, category, criteria
    ("first_lesson", "Bài học đầu tiên", "First lesson", "第一课", 10, "BRONZE", "LEARNING", {"lessons": 1}),
    ("lessons_10", "Chăm chỉ", "10 lessons", "十节课", 50, "SILVER", "LEARNING", {"lessons": 10}),
    ("lessons_50", "Học giả", "50 lessons", "五十节课", 200, "GOLD", "LEARNING", {"lessons": 50}),
    (
        "course_complete",
        "Hoàn thành khoá học",
        "Course finisher",
        "完成课程",
        100,
        "SILVER",
        "LEARNING",
        {"courses": 1},
    ),
    ("courses_3", "Nhà thông thái", "Three courses", "三门课程", 300, "GOLD", "LEARNING", {"courses": 3}),
    ("streak_3", "Khởi động", "3-day streak", "连续3天", 15, "BRONZE", "STREAK", {"streak": 3}),
    ("streak_7", "Một tuần bền bỉ", "7-day streak", "连续7天", 50, "SILVER", "STREAK", {"streak": 7}),
    ("streak_30", "Kỷ luật thép", "30-day streak", "连续30天", 300, "GOLD", "STREAK", {"streak": 30}),
    (
        "active_20",
        "Người học tích cực",
        "20 active days",
        "活跃20天",
        80,
        "SILVER",
        "STREAK",
        {"active_days": 20},
    ),
    (
        "buddy_join",
        "Có bạn đồng hành",
        "Joined a buddy group",
        "加入学习小组",
        20,
        "BRONZE",
        "SOCIAL",
        {"groups": 1},
    ),
    ("first_post", "Lên tiếng", "First post", "首次发帖", 10, "BRONZE", "SOCIAL", {"posts": 1}),
    ("influencer", "Người truyền cảm hứng", "Influencer", "影响者", 150, "GOLD", "SOCIAL", {"followers": 10}),
]


def _achievement_description(a):
    """The localized description (NOT NULL in the app) of an ACHIEVEMENTS entry: the catalog's
    and each award's, as the app copies it."""
    return {"vi": f"Thành tích: {a[1]}", "en": f"Achievement: {a[2]}", "zh": f"成就：{a[3]}"}


DEVICES = [
    # os, browser, type, weight
    ("Android", "Chrome Mobile", "mobile", 34),
    ("iOS", "Safari", "mobile", 20),
    ("Android", "Zalo In-App", "mobile", 8),
    ("iOS", "Facebook In-App", "mobile", 5),
    ("Windows", "Chrome", "desktop", 17),
    ("Windows", "Edge", "desktop", 5),
    ("macOS", "Safari", "desktop", 5),
    ("macOS", "Chrome", "desktop", 3),
    ("Linux", "Firefox", "desktop", 1),
    ("iPadOS", "Safari", "tablet", 2),
]
GENERAL_PATHS = [
    "/",
    "/courses",
    "/dashboard",
    "/leaderboard",
    "/profile",
    "/social/feed",
    "/search",
    "/pricing",
    "/login",
    "/register",
]
REFERRERS = ["direct", "google", "facebook", "zalo", "tiktok", "youtube"]

# Event kinds: (eventType, actionCategory, path: general path | 'LESSON' | 'COURSE', metric)
KINDS = [
    ("page_view", "NAVIGATION", "LESSON", "scroll"),  # 0
    ("video_play", "LEARNING", "LESSON", "position"),  # 1
    ("video_pause", "LEARNING", "LESSON", "position"),  # 2
    ("quiz_start", "LEARNING", "LESSON", None),  # 3
    ("quiz_submit", "LEARNING", "LESSON", "score"),  # 4
    ("lesson_complete", "LEARNING", "LESSON", None),  # 5
    ("click", "GENERAL", "LESSON", None),  # 6
    ("page_view", "NAVIGATION", "/dashboard", None),  # 7
    ("page_view", "SOCIAL", "/leaderboard", None),  # 8
    ("page_view", "NAVIGATION", "COURSE", None),  # 9
    ("page_view", "NAVIGATION", "/courses", None),  # 10
    ("page_view", "SOCIAL", "/social/feed", None),  # 11
    ("search", "NAVIGATION", "/search", None),  # 12
    ("page_view", "NAVIGATION", "/profile", None),  # 13
    ("page_view", "NAVIGATION", "/", None),  # 14
    ("page_view", "NAVIGATION", "/pricing", None),  # 15
    ("page_view", "NAVIGATION", "/register", None),  # 16
    ("click", "GENERAL", "COURSE", None),  # 17
]
_LEARNER_P = {0: 26, 1: 18, 2: 9, 3: 5, 4: 7, 5: 5, 6: 6, 7: 6, 8: 6, 9: 4, 11: 4, 12: 2, 13: 2}
_BROWSER_P = {7: 25, 8: 10, 9: 25, 10: 15, 11: 8, 12: 8, 13: 5, 17: 4}
_ANON_P = {14: 20, 10: 25, 9: 30, 15: 10, 16: 10, 17: 5}
_METRICS = [None, "scroll", "position", "score"]


def _probs(table):
    p = np.zeros(len(KINDS))
    for k, w in table.items():
        p[k] = w
    return p / p.sum()


# ------------------------------------------------------------------------------------------
# The plan: everything except the BehaviorLog rows, deterministic from the params
# ------------------------------------------------------------------------------------------


def _course_catalog(count):
    out = []
    for t in TOPICS:
        out.append((t[0], t[1], t[2], t[3], t[4]))
    for q in QUALIFIERS:
        for t in TOPICS:
            slug = f"{t[0]}-{q[0]}"
            if t[0].endswith(q[0]) or slug == "investing-advanced":
                continue
            out.append((slug, f"{t[1]} {q[1]}", f"{t[2]} {q[2]}", t[3] + q[3], q[4]))
    base = list(out)
    part = 2
    while len(out) < count:
        for slug, vi, en, zh, level in base:
            out.append(
                (
                    f"{slug}-part-{part}",
                    f"{vi} (phần {part})",
                    f"{en} (Part {part})",
                    f"{zh}（第{part}部分）",
                    level,
                )
            )
        part += 1
    return out[:count]


class Plan:
    """Deterministic content of one seed (BehaviorLog rows are generated per block)."""

    def __init__(self, params):
        self.params = params
        seed = self.seed = params["seed"]
        U, C, E, D = (params[k] for k in COUNT_KEYS)
        anchor = _dt.date.fromisoformat(params["anchor_date"])
        self.anchor_ms = int((anchor - _dt.date(1970, 1, 1)).days) * DAY_MS
        self.ws_ms = self.anchor_ms - D * DAY_MS
        self._courses(seed, C)
        self._users(seed, U)
        self._enrollments(seed)
        self._sessions(seed, E)
        self._streaks()
        self._social(seed)
        self._achievements(seed)

    # -- courses and lessons ---------------------------------------------------------------
    def _courses(self, seed, C):
        rng = _rng(seed, "course")
        cat = _course_catalog(C)
        self.C = C
        self.course_ids = _uuid_mat(rng, C)
        self.slugs = [c[0] for c in cat]
        self.course_names = [(c[1], c[2], c[3]) for c in cat]
        lv = rng.integers(0, 3, C)
        self.level = np.array([LEVELS.index(c[4]) if c[4] else lv[i] for i, c in enumerate(cat)])
        self.price = np.array(PRICES)[rng.integers(0, len(PRICES), C)]
        self.published = rng.random(C) < 0.9
        self.published[:4] = True
        self.n_lessons = rng.integers(8, 16, C)
        draft_last = rng.random(C) < 0.1
        self.n_pub_lessons = self.n_lessons - draft_last
        self.course_created = self.ws_ms - rng.integers(30 * DAY_MS, 400 * DAY_MS, C)
        # Zipf-like popularity over a random ranking of the courses.
        rank = rng.permutation(C)
        pop = 1.0 / (rank + 1.0) ** 1.1
        pop[~self.published] = 0.0
        self.popularity = pop / pop.sum()
        # lessons
        lrng = _rng(seed, "lesson")
        self.lesson_off = np.concatenate([[0], np.cumsum(self.n_lessons)])
        self.L = int(self.lesson_off[-1])
        self.lesson_ids = _uuid_mat(lrng, self.L)
        self.lesson_course = np.repeat(np.arange(C), self.n_lessons)
        self.lesson_order = np.arange(self.L) - self.lesson_off[self.lesson_course] + 1
        self.lesson_type = lrng.choice(4, self.L, p=[0.5, 0.25, 0.15, 0.1])
        self.lesson_duration = lrng.integers(5, 31, self.L) * 60
        self.lesson_published = self.lesson_order <= self.n_pub_lessons[self.lesson_course]
        self.lesson_topic = lrng.integers(0, len(LESSON_TOPICS), self.L)
        self.lesson_created = self.course_created[self.lesson_course] + lrng.integers(0, 20 * DAY_MS, self.L)

    # -- users -----------------------------------------------------------------------------
    def _users(self, seed, U):
        rng = _rng(seed, "user")
        self.U = U
        self.user_ids = _uuid_mat(rng, U)
        self.role = rng.choice(3, U, p=[0.94, 0.05, 0.01])
        if U >= 50:
            self.role[0] = 2
        fam_w = np.array([f[3] for f in FAMILY], dtype=float)
        self.fam = rng.choice(len(FAMILY), U, p=fam_w / fam_w.sum())
        self.mid = rng.integers(0, len(MIDDLE), U)
        self.given = rng.integers(0, len(GIVEN), U)
        self.locale = rng.choice(3, U, p=[0.85, 0.12, 0.03])
        self.pw = rng.integers(0, 64, size=(U, 53), dtype=np.uint8)
        D_ms = self.anchor_ms - self.ws_ms
        before = rng.random(U) < 0.45
        created = np.where(
            before,
            self.ws_ms - (rng.random(U) * 365 * DAY_MS).astype(np.int64),
            self.ws_ms + (rng.random(U) ** 0.8 * (D_ms - HOUR_MS)).astype(np.int64),
        )
        self.user_created = created
        start = np.maximum(created, self.ws_ms)
        churner = (self.role == 0) & (rng.random(U) < 0.10)
        churn_at = start + ((0.1 + 0.6 * rng.random(U)) * (self.anchor_ms - start)).astype(np.int64)
        self.churner = churner
        self.active_start = start
        self.active_end = np.where(churner, churn_at, self.anchor_ms)
        inactive = rng.random(U) < 0.05
        span_days = np.maximum(self.active_end - self.active_start, 0) / DAY_MS
        w = rng.lognormal(0.0, 1.1, U)
        w = np.where(self.role == 0, w, w * 0.3)
        self.weight = np.where(inactive, 0.0, w)
        self.session_weight = self.weight * np.maximum(span_days, 1.0 / 24)
        if self.session_weight.sum() <= 0:
            self.session_weight[0] = 1.0
        # The app's optional User fields: most users never fill them in.
        orng = _rng(seed, "user_optional")
        self.birth_ms = np.where(
            orng.random(U) < 0.55,
            self.ws_ms - ((16 + 30 * orng.random(U) ** 1.5) * 365.25 * DAY_MS).astype(np.int64),
            -1,
        )
        self.language = np.where(orng.random(U) < 0.3, self.locale, -1)

    # -- enrollments and progress ----------------------------------------------------------
    def _enrollments(self, seed):
        rng = _rng(seed, "enroll")
        U, C = self.U, self.C
        eligible = (self.role == 0) & (self.weight > 0)
        k = np.where(eligible, 1 + rng.poisson(np.minimum(self.weight, 6.0) * 0.9), 0)
        k = np.minimum(k, min(12, int(self.published.sum())))
        users = np.repeat(np.arange(U), k)
        courses = rng.choice(C, users.size, p=self.popularity)
        key = np.unique(users.astype(np.int64) * C + courses)
        eu = key // C
        ec = key % C
        n = eu.size
        self.enr_user, self.enr_course = eu, ec
        self.enr_first = np.searchsorted(eu, np.arange(U))
        self.enr_count = np.bincount(eu, minlength=U)
        lpub = self.n_pub_lessons[ec]
        frac = rng.beta(1.1, 1.6, n) * np.where(self.churner[eu], 0.5, 1.0)
        full = (rng.random(n) < 0.22) & ~self.churner[eu]
        reached = np.where(full, lpub, np.maximum(1, np.ceil(frac * lpub).astype(np.int64)))
        reached = np.minimum(reached, lpub)
        self.enr_reached = reached
        self.enr_full = full
        span = self.active_end[eu] - self.active_start[eu]
        self.enr_start = self.active_start[eu] + (rng.random(n) * 0.5 * span).astype(np.int64)
        self.enr_end = self.active_end[eu]
        # progress rows
        prng = _rng(seed, "progress")
        rows = int(reached.sum())
        e = np.repeat(np.arange(n), reached)
        order = np.arange(rows) - np.repeat(np.cumsum(reached) - reached, reached) + 1
        last = order == reached[e]
        completed = ~last | full[e]
        in_prog = last & ~completed & (prng.random(rows) < 0.65)
        status = np.where(completed, 2, np.where(in_prog, 1, 0))
        step = (self.enr_end[e] - self.enr_start[e]) / reached[e]
        created = self.enr_start[e] + ((order - 1 + 0.5 * prng.random(rows)) * step).astype(np.int64)
        done_at = created + ((0.05 + 0.4 * prng.random(rows)) * step).astype(np.int64)
        lesson = self.lesson_off[self.enr_course[e]] + order - 1
        ldur = self.lesson_duration[lesson]
        pct_tenths = np.where(completed, 1000, np.where(in_prog, prng.integers(50, 951, rows), 0))
        spent = np.where(
            completed,
            (ldur * (0.8 + 0.8 * prng.random(rows))).astype(np.int64),
            np.where(
                in_prog,
                (ldur * pct_tenths / 1000 * (0.8 + 0.6 * prng.random(rows))).astype(np.int64),
                prng.integers(0, 61, rows),
            ),
        )
        self.pr_ids = _uuid_mat(prng, rows)
        self.pr_user = self.enr_user[e]
        self.pr_lesson = lesson
        self.pr_status = status
        self.pr_spent = spent
        self.pr_pct = pct_tenths
        self.pr_pct_null = _rng(seed, "progress_null").random(rows) < NULL_PROGRESS_SHARE
        self.pr_created = created
        self.pr_completed = np.where(completed, done_at, -1)
        self.pr_updated = np.where(completed, done_at, created + (0.02 * step).astype(np.int64))
        self.completed_lessons = np.bincount(self.pr_user[completed], minlength=U)
        self.completed_courses = np.bincount(eu[full], minlength=U)

    # -- sessions (the skeleton of BehaviorLog) --------------------------------------------
    def _sessions(self, seed, E):
        rng = _rng(seed, "session")
        sizes = []
        total = 0
        while total < E:
            s = np.minimum(rng.geometric(1.0 / 8.0, max(64, int((E - total) / 7))), 80)
            cs = np.cumsum(s)
            cut = int(np.searchsorted(cs, E - total))
            if cut < s.size:
                s = s[: cut + 1].copy()
                s[-1] -= int(s.sum()) - (E - total)
            sizes.append(s)
            total += int(s.sum())
        size = np.concatenate(sizes).astype(np.int64)
        S = size.size
        anon = rng.random(S) < 0.03
        p = self.session_weight / self.session_weight.sum()
        user = rng.choice(self.U, S, p=p)
        user = np.where(anon, -1, user)
        lo = np.where(anon, self.ws_ms, self.active_start[np.maximum(user, 0)])
        hi = np.where(anon, self.anchor_ms, self.active_end[np.maximum(user, 0)])
        # local calendar day with a weekend dip (1970-01-01 was a Thursday)
        dow_w = np.array([1.0, 1.0, 1.0, 0.97, 0.9, 0.65, 0.72])  # Mon..Sun
        day = np.empty(S, dtype=np.int64)
        todo = np.arange(S)
        for _ in range(30):
            t = lo[todo] + (rng.random(todo.size) * np.maximum(hi[todo] - lo[todo], 1)).astype(np.int64)
            d = (t + LOCAL_OFFSET_MS) // DAY_MS
            ok = rng.random(todo.size) < dow_w[(d + 3) % 7]
            day[todo[ok]] = d[ok]
            todo = todo[~ok]
            if not todo.size:
                break
        if todo.size:
            day[todo] = (lo[todo] + LOCAL_OFFSET_MS) // DAY_MS
        hour_w = np.array(
            [2, 1, 0.5, 0.3, 0.3, 0.6, 1.5, 3, 4, 4, 4, 4.5, 5.5, 4.5, 4, 4, 4.5, 5, 6, 8, 9, 8.5, 6, 3.5]
        )
        hour = rng.choice(24, S, p=hour_w / hour_w.sum())
        start = day * DAY_MS - LOCAL_OFFSET_MS + hour * HOUR_MS + rng.integers(0, HOUR_MS, S)
        top = np.maximum(hi - 2 * HOUR_MS, lo)
        start = np.where(start > top, start - DAY_MS, start)
        start = np.where(start < lo, start + DAY_MS, start)
        start = np.clip(start, lo, top)
        order = np.argsort(start, kind="stable")  # BehaviorLog is physically time ordered
        self.s_user = user[order]
        self.s_start = start[order]
        self.s_size = size[order]
        self.S = S
        self.s_off = np.concatenate([[0], np.cumsum(self.s_size)])
        self.n_blocks = -(-S // SESSIONS_PER_BLOCK)

    def _streaks(self):
        U = self.U
        known = self.s_user >= 0
        u = self.s_user[known]
        d = self.s_start[known] // DAY_MS
        self.last_activity = np.full(U, -1, dtype=np.int64)
        np.maximum.at(self.last_activity, u, self.s_start[known])
        self.active_days = np.zeros(U, dtype=np.int64)
        self.current_streak = np.zeros(U, dtype=np.int64)
        self.longest_streak = np.zeros(U, dtype=np.int64)
        if not u.size:
            return
        dmin = int(d.min())
        key = np.unique(u * (int(d.max()) - dmin + 2) + (d - dmin))
        ku = key // (int(d.max()) - dmin + 2)
        kd = key % (int(d.max()) - dmin + 2)
        new_run = np.ones(key.size, dtype=bool)
        new_run[1:] = (ku[1:] != ku[:-1]) | (kd[1:] != kd[:-1] + 1)
        run_id = np.cumsum(new_run) - 1
        run_len = np.bincount(run_id)
        run_user = ku[new_run]
        run_last_day = kd[np.r_[np.nonzero(new_run)[0][1:] - 1, key.size - 1]] + dmin
        self.active_days = np.bincount(ku, minlength=U)
        np.maximum.at(self.longest_streak, run_user, run_len)
        last_run = np.r_[run_user[1:] != run_user[:-1], True]
        anchor_day = self.anchor_ms // DAY_MS
        alive = last_run & (run_last_day >= anchor_day - 1)
        self.current_streak[run_user[alive]] = run_len[alive]

    def _social(self, seed):
        rng = _rng(seed, "group")
        U = self.U
        active = np.nonzero(self.weight > 0)[0]
        if not active.size:
            active = np.arange(min(U, 1))
        G = max(1, active.size // 30)
        self.G = G
        self.group_ids = _uuid_mat(rng, G)
        self.group_type = rng.choice(3, G, p=[0.5, 0.3, 0.2])
        self.group_name_idx = rng.integers(0, len(GIVEN), G)
        leaders = rng.choice(active, G, replace=active.size < G)
        joiners = active[rng.random(active.size) < 0.4]
        extra = joiners[rng.random(joiners.size) < 0.15]
        mu = np.concatenate([leaders, joiners, extra])
        mg = np.concatenate([np.arange(G), rng.integers(0, G, joiners.size + extra.size)])
        mrole = np.concatenate(
            [np.zeros(G, dtype=np.int64), np.ones(joiners.size + extra.size, dtype=np.int64)]
        )
        key, idx = np.unique(mg.astype(np.int64) * U + mu, return_index=True)
        self.m_group, self.m_user, self.m_role = mg[idx], mu[idx], mrole[idx]
        self.m_ids = _uuid_mat(rng, idx.size)
        self.m_joined = self.active_start[self.m_user] + (
            rng.random(idx.size) * 0.3 * (self.active_end[self.m_user] - self.active_start[self.m_user])
        ).astype(np.int64)
        self.groups_of_user = np.bincount(self.m_user, minlength=U)
        # posts
        prng = _rng(seed, "post")
        npost = prng.poisson(np.minimum(self.weight, 5.0) * 0.5)
        pu = np.repeat(np.arange(U), npost)
        self.p_user = pu
        self.p_ids = _uuid_mat(prng, pu.size)
        self.p_type = prng.choice(4, pu.size, p=[0.25, 0.15, 0.1, 0.5])
        self.p_likes = np.minimum(prng.pareto(1.5, pu.size) * 3, 5000).astype(np.int64)
        self.p_created = self.active_start[pu] + (
            prng.random(pu.size) * (self.active_end[pu] - self.active_start[pu])
        ).astype(np.int64)
        first_group = np.full(U, -1)
        first_group[self.m_user[::-1]] = self.m_group[::-1]
        in_group = (first_group[pu] >= 0) & (prng.random(pu.size) < 0.5)
        self.p_group = np.where(in_group, first_group[pu], -1)
        self.p_text = prng.integers(0, 6, pu.size)
        self.posts_of_user = np.bincount(pu, minlength=U)
        # relationships: followers pick popular (active) users
        rrng = _rng(seed, "relation")
        nf = np.where(self.weight > 0, rrng.poisson(np.minimum(self.weight, 5.0) * 1.5), 0)
        fu = np.repeat(np.arange(U), nf)
        pw = self.weight / self.weight.sum() if self.weight.sum() > 0 else np.full(U, 1.0 / U)
        fd = rrng.choice(U, fu.size, p=pw)
        keep = fu != fd
        key = np.unique(fu[keep].astype(np.int64) * U + fd[keep])
        self.r_follower, self.r_followed = key // U, key % U
        self.r_ids = _uuid_mat(rrng, key.size)
        self.r_status = rrng.choice(4, key.size, p=[0.6, 0.08, 0.3, 0.02])
        lo = np.maximum(self.active_start[self.r_follower], self.active_start[self.r_followed])
        hi = np.maximum(lo + 1, self.active_end[self.r_follower])
        self.r_created = lo + (rrng.random(key.size) * (hi - lo)).astype(np.int64)
        self.followers = np.bincount(self.r_followed, minlength=U)

    def _achievements(self, seed):
        rng = _rng(seed, "achievement")
        U = self.U
        self.ach_ids = _uuid_mat(rng, len(ACHIEVEMENTS))
        stat = {
            "lessons": self.completed_lessons,
            "courses": self.completed_courses,
            "streak": self.longest_streak,
            "active_days": self.active_days,
            "groups": self.groups_of_user,
            "posts": self.posts_of_user,
            "followers": self.followers,
        }
        au, ak = [], []
        for i, a in enumerate(ACHIEVEMENTS):
            ((metric, threshold),) = a[7].items()
            who = np.nonzero(stat[metric] >= threshold)[0]
            au.append(who)
            ak.append(np.full(who.size, i))
        au = np.concatenate(au)
        ak = np.concatenate(ak)
        order = np.lexsort((ak, au))
        self.a_user, self.a_kind = au[order], ak[order]
        self.a_ids = _uuid_mat(rng, au.size)
        span = np.maximum(self.active_end - self.active_start, 1)
        last = np.where(self.last_activity >= 0, self.last_activity, self.active_end)
        lo = self.active_start[self.a_user]
        hi = np.maximum(lo + 1, np.minimum(last[self.a_user] + 1, lo + span[self.a_user]))
        self.a_awarded = lo + (rng.random(au.size) * (hi - lo)).astype(np.int64)
        ach_points = np.array([a[4] for a in ACHIEVEMENTS])
        self.points = (
            10 * self.completed_lessons
            + 2 * self.active_days
            + np.bincount(self.a_user, weights=ach_points[self.a_kind], minlength=U).astype(np.int64)
        )
        srng = _rng(seed, "streak")
        self.st_ids = _uuid_mat(srng, U)
        self.st_frozen = (self.current_streak > 0) & (srng.random(U) < 0.05)
        self.st_freezes = srng.integers(0, 4, U)

    # -- counts ------------------------------------------------------------------------------
    def counts(self):
        return {
            "User": self.U,
            "Course": self.C,
            "Lesson": self.L,
            "Achievement": len(ACHIEVEMENTS),
            "BuddyGroup": self.G,
            "UserProgress": int(self.pr_user.size),
            "BehaviorLog": int(self.params["behavior_logs"]),
            "UserStreak": self.U,
            "UserAchievement": int(self.a_user.size),
            "BuddyMember": int(self.m_user.size),
            "SocialPost": int(self.p_user.size),
            "UserRelationship": int(self.r_follower.size),
        }

    # -- steps -------------------------------------------------------------------------------
    def steps(self, chunk_rows):
        steps = ["base"]
        n = self.pr_user.size
        steps += [f"UserProgress:{k}" for k in range(-(-n // chunk_rows))]
        per_block = max(1.0, self.params["behavior_logs"] / max(1, self.n_blocks))
        bpc = max(1, int(chunk_rows // per_block))
        steps += [f"BehaviorLog:{k}" for k in range(-(-self.n_blocks // bpc))]
        self._bpc = bpc
        self._chunk_rows = chunk_rows
        return steps

    # -- row producers: (table, columns, list of COPY buffers) ----------------------------------
    def _name(self, i):
        f, m, g = FAMILY[self.fam[i]], MIDDLE[self.mid[i]], GIVEN[self.given[i]]
        return f, m, g

    def base_tables(self):
        """Yield (table, column list, copy bytes) for the small tables, parents first."""
        U = self.U
        uid = [r.tobytes().decode() for r in self.user_ids]
        self._uid = uid
        cid = [r.tobytes().decode() for r in self.course_ids]
        gid = [r.tobytes().decode() for r in self.group_ids]
        alphabet = np.frombuffer(
            b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", np.uint8
        )
        pw = alphabet[self.pw]
        roles = ("STUDENT", "TEACHER", "ADMIN")
        locales = ("vi", "en", "zh")
        rows = []
        last = np.where(self.last_activity >= 0, self.last_activity, self.user_created)
        u_created = _tsl(self.user_created)
        u_updated = _tsl(np.maximum(self.user_created, last))
        u_birth = _tsl(self.birth_ms)
        for i in range(U):
            f, m, g = self._name(i)
            rows.append(
                (
                    uid[i],
                    f"{g[1].lower()}.{f[1].lower()}{i + 1}@example.vn",
                    "$2b$10$" + pw[i].tobytes().decode(),
                    {
                        "vi": f"{f[0]} {m[0]} {g[0]}",
                        "en": f"{g[1]} {f[1]}",
                        "zh": f[2] + m[2] + g[2],
                    },
                    roles[self.role[i]],
                    int(self.points[i]),
                    locales[self.locale[i]],
                    locales[self.language[i]] if self.language[i] >= 0 else None,
                    u_birth[i],
                    u_created[i],
                    u_updated[i],
                )
            )
        yield (
            "User",
            [
                "id",
                "email",
                "passwordHash",
                "name",
                "role",
                "points",
                "preferredLocale",
                "preferredLanguage",
                "dateOfBirth",
                "createdAt",
                "updatedAt",
            ],
            _py_copy(rows),
        )
        c_created = _tsl(self.course_created)
        c_updated = _tsl(self.course_created + 20 * DAY_MS)
        rows = []
        for c in range(self.C):
            vi, en, zh = self.course_names[c]
            rows.append(
                (
                    cid[c],
                    self.slugs[c],
                    {"vi": vi, "en": en, "zh": zh},
                    {
                        "vi": f"Khoá học {vi} dành cho người Việt.",
                        "en": f"A course on {en}.",
                        "zh": f"关于{zh}的课程。",
                    },
                    f"courses/{self.slugs[c]}/cover.webp",
                    int(self.price[c]),
                    LEVELS[self.level[c]],
                    bool(self.published[c]),
                    c_created[c],
                    c_updated[c],
                )
            )
        yield (
            "Course",
            [
                "id",
                "slug",
                "title",
                "description",
                "thumbnailKey",
                "price",
                "level",
                "published",
                "createdAt",
                "updatedAt",
            ],
            _py_copy(rows),
        )
        l_created = _tsl(self.lesson_created)
        l_updated = _tsl(self.lesson_created + DAY_MS)
        rows = []
        for i in range(self.L):
            c = self.lesson_course[i]
            n = int(self.lesson_order[i])
            t = LESSON_TOPICS[self.lesson_topic[i]]
            vi, en, zh = self.course_names[c]
            ltype = LESSON_TYPES[self.lesson_type[i]]
            content = {
                "body": {
                    "vi": f"{t[0]} — {vi}",
                    "en": f"{t[1]} — {en}",
                    "zh": f"{t[2]} — {zh}",
                }
            }
            # a JSON string (the column is jsonb; _py_copy writes str as is)
            video_key = _jdump(f"videos/{self.slugs[c]}/{n}.mp4") if ltype == "VIDEO" else None
            rows.append(
                (
                    self.lesson_ids[i].tobytes().decode(),
                    cid[c],
                    n,
                    {
                        "vi": f"Bài {n}: {t[0]}",
                        "en": f"Lesson {n}: {t[1]}",
                        "zh": f"第{n}课：{t[2]}",
                    },
                    content,
                    video_key,
                    ltype,
                    int(self.lesson_duration[i]),
                    bool(self.lesson_published[i]),
                    l_created[i],
                    l_updated[i],
                )
            )
        yield (
            "Lesson",
            [
                "id",
                "courseId",
                "order",
                "title",
                "content",
                "videoKey",
                "type",
                "duration",
                "published",
                "createdAt",
                "updatedAt",
            ],
            _py_copy(rows),
        )
        created = _ms_text(self.ws_ms - 400 * DAY_MS)
        rows = [
            (
                self.ach_ids[i].tobytes().decode(),
                a[0],
                {"vi": a[1], "en": a[2], "zh": a[3]},
                a[7],
                a[4],
                a[5],
                a[6],
                _achievement_description(a),
                f"achievements/{a[0]}.svg",
                created,
                created,
            )
            for i, a in enumerate(ACHIEVEMENTS)
        ]
        yield (
            "Achievement",
            [
                "id",
                "key",
                "name",
                "criteria",
                "points",
                "tier",
                "category",
                "description",
                "iconKey",
                "createdAt",
                "updatedAt",
            ],
            _py_copy(rows),
        )
        gtypes = ("LEARNING", "SAVING", "INVESTING")
        gnames = ("Nhóm học", "Nhóm tiết kiệm", "Nhóm đầu tư")
        gpoints = np.bincount(self.m_group, weights=self.points[self.m_user], minlength=self.G).astype(
            np.int64
        )
        gstreak = np.full(self.G, 10**9)
        np.minimum.at(gstreak, self.m_group, self.current_streak[self.m_user])
        gstreak[gstreak == 10**9] = 0
        gcreated = np.full(self.G, self.anchor_ms)
        np.minimum.at(gcreated, self.m_group, self.m_joined)
        g_created = _tsl(gcreated)
        rows = [
            (
                gid[g],
                f"{gnames[self.group_type[g]]} {GIVEN[self.group_name_idx[g]][0]} #{g + 1}",
                gtypes[self.group_type[g]],
                int(gpoints[g]),
                int(gstreak[g]),
                g_created[g],
                g_created[g],
            )
            for g in range(self.G)
        ]
        yield (
            "BuddyGroup",
            ["id", "name", "type", "totalPoints", "streak", "createdAt", "updatedAt"],
            _py_copy(rows),
        )
        # NOT NULL in the app (@default(now()) when the streak row is made at signup): a user
        # with no activity yet carries the signup time.
        s_last = _tsl(np.where(self.last_activity >= 0, self.last_activity, self.user_created))
        s_updated = _tsl(np.maximum(self.last_activity, self.user_created))
        rows = []
        for i in range(U):
            rows.append(
                (
                    self.st_ids[i].tobytes().decode(),
                    uid[i],
                    int(self.current_streak[i]),
                    int(self.longest_streak[i]),
                    s_last[i],
                    bool(self.st_frozen[i]),
                    int(self.st_freezes[i]),
                    u_created[i],
                    s_updated[i],
                )
            )
        yield (
            "UserStreak",
            [
                "id",
                "userId",
                "currentStreak",
                "longestStreak",
                "lastActivityDate",
                "streakFrozen",
                "freezesRemaining",
                "createdAt",
                "updatedAt",
            ],
            _py_copy(rows),
        )
        a_awarded = _tsl(self.a_awarded)
        rows = []
        for i in range(self.a_user.size):
            a = ACHIEVEMENTS[self.a_kind[i]]
            rows.append(
                (
                    self.a_ids[i].tobytes().decode(),
                    uid[self.a_user[i]],
                    a[0],
                    {"vi": a[1], "en": a[2], "zh": a[3]},
                    _achievement_description(a),
                    f"achievements/{a[0]}.svg",
                    a_awarded[i],
                )
            )
        yield (
            "UserAchievement",
            ["id", "userId", "type", "name", "description", "iconKey", "awardedAt"],
            _py_copy(rows),
        )
        mroles = ("LEADER", "MEMBER")
        m_joined = _tsl(self.m_joined)
        rows = [
            (
                self.m_ids[i].tobytes().decode(),
                gid[self.m_group[i]],
                uid[self.m_user[i]],
                mroles[self.m_role[i]],
                m_joined[i],
            )
            for i in range(self.m_user.size)
        ]
        yield "BuddyMember", ["id", "groupId", "userId", "role", "joinedAt"], _py_copy(rows)
        ptypes = ("ACHIEVEMENT", "MILESTONE", "NUDGE", "DISCUSSION")
        texts = [
            ("Hôm nay mình học xong một bài mới!", "Finished a new lesson today!", "今天学完了一节新课！"),
            ("Ai có mẹo tiết kiệm hay không?", "Any good saving tips?", "有什么好的储蓄技巧吗？"),
            (
                "Chuỗi ngày học của mình vẫn tiếp tục 🔥",
                "My streak keeps going 🔥",
                "我的连续学习还在继续 🔥",
            ),
            ("Cùng nhau đầu tư thông minh nhé.", "Let's invest wisely together.", "一起明智投资吧。"),
            ("Lãi suất kép thật kỳ diệu.", "Compound interest is magic.", "复利真神奇。"),
            (
                "Nhắc nhẹ: đừng quên bài học hôm nay!",
                "Reminder: don't skip today's lesson!",
                "提醒：别忘了今天的课！",
            ),
        ]
        p_created = _tsl(self.p_created)
        rows = []
        for i in range(self.p_user.size):
            t = texts[self.p_text[i]]
            g = self.p_group[i]
            rows.append(
                (
                    self.p_ids[i].tobytes().decode(),
                    uid[self.p_user[i]],
                    gid[g] if g >= 0 else None,
                    ptypes[self.p_type[i]],
                    {"vi": t[0], "en": t[1], "zh": t[2]},
                    int(self.p_likes[i]),
                    p_created[i],
                )
            )
        yield (
            "SocialPost",
            ["id", "userId", "groupId", "type", "content", "likesCount", "createdAt"],
            _py_copy(rows),
        )
        rstat = ("FOLLOWING", "FRIEND_REQUESTED", "FRIENDS", "BLOCKED")
        r_created = _tsl(self.r_created)
        rows = [
            (
                self.r_ids[i].tobytes().decode(),
                uid[self.r_follower[i]],
                uid[self.r_followed[i]],
                rstat[self.r_status[i]],
                r_created[i],
                r_created[i],
            )
            for i in range(self.r_follower.size)
        ]
        yield (
            "UserRelationship",
            ["id", "followerId", "followedId", "status", "createdAt", "updatedAt"],
            _py_copy(rows),
        )

    PROGRESS_COLUMNS = [
        "id",
        "userId",
        "lessonId",
        "status",
        "durationSpent",
        "progressPercentage",
        "completedAt",
        "createdAt",
        "updatedAt",
    ]

    def progress_chunk(self, k):
        a = k * self._chunk_rows
        b = min(self.pr_user.size, a + self._chunk_rows)
        sl = slice(a, b)
        n = b - a
        status = _Vocab(["STARTED", "IN_PROGRESS", "COMPLETED"])
        cols = [
            _fixed(self.pr_ids[sl]),
            _fixed(self.user_ids[self.pr_user[sl]]),
            _fixed(self.lesson_ids[self.pr_lesson[sl]]),
            status.piece(self.pr_status[sl]),
            _int_piece(self.pr_spent[sl]),
            _nullable_pieces(_float1_pieces(self.pr_pct[sl]), self.pr_pct_null[sl]),
            _ts_piece(np.maximum(self.pr_completed[sl], 0), self.pr_completed[sl] < 0),
            _ts_piece(self.pr_created[sl]),
            _ts_piece(self.pr_updated[sl]),
        ]
        return _assemble(cols, n), n

    LOG_COLUMNS = [
        "id",
        "userId",
        "sessionId",
        "path",
        "eventType",
        "actionCategory",
        "duration",
        "deviceInfo",
        "payload",
        "timestamp",
    ]

    def _log_vocab(self):
        if getattr(self, "_lv", None) is not None:
            return self._lv
        C = self.C
        paths = list(GENERAL_PATHS) + [f"/courses/{s}" for s in self.slugs]
        lesson_base = len(paths)
        paths += [
            f"/courses/{self.slugs[c]}/lessons/{o}"
            for c, o in zip(self.lesson_course, self.lesson_order, strict=False)
        ]
        kind_path = np.array([GENERAL_PATHS.index(k[2]) if k[2].startswith("/") else -1 for k in KINDS])
        dw = np.array([d[3] for d in DEVICES], dtype=float)
        devices = []
        for os_, br, ty, _w in DEVICES:
            for app in ("web", "pwa"):
                devices.append(_jdump({"os": os_, "browser": br, "type": ty, "app": app}))
        pay_a = [_jdump({"referrer": r}) for r in REFERRERS] + [
            f'{{"course": "{s}", "lesson": ' for s in self.slugs
        ]
        self._lv = {
            "path": _Vocab(paths),
            "lesson_base": lesson_base,
            "kind_path": kind_path,
            "event": _Vocab([k[0] for k in KINDS]),
            "category": _Vocab([k[1] for k in KINDS]),
            "device": _Vocab(devices),
            "device_p": np.repeat(dw / dw.sum(), 2) * np.tile([0.8, 0.2], len(DEVICES)),
            "pay_a": _Vocab(pay_a),
            "pay_c": _Vocab(["", "}", ', "scroll": ', ', "position": ', ', "score": ']),
            "pay_e": _Vocab(["", "}"]),
            "metric": np.array([_METRICS.index(k[3]) for k in KINDS]),
            "lesson_kind": np.array([k[2] == "LESSON" for k in KINDS]),
            "course_kind": np.array([k[2] == "COURSE" for k in KINDS]),
            "p": {"learner": _probs(_LEARNER_P), "browser": _probs(_BROWSER_P), "anon": _probs(_ANON_P)},
            "C": C,
        }
        return self._lv

    def log_block(self, b):
        """COPY text for the sessions of block b (a function of (seed, b) and the plan only)."""
        lv = self._log_vocab()
        rng = _rng(self.seed, "log", b)
        s0 = b * SESSIONS_PER_BLOCK
        s1 = min(self.S, s0 + SESSIONS_PER_BLOCK)
        ns = s1 - s0
        su = self.s_user[s0:s1]
        size = self.s_size[s0:s1]
        n = int(size.sum())
        if n == 0:
            return b"", 0
        sess_ids = _uuid_mat(rng, ns)
        device = rng.choice(lv["device_p"].size, ns, p=lv["device_p"])
        uu = np.maximum(su, 0)
        has_enr = (su >= 0) & (self.enr_count[uu] > 0)
        enr = self.enr_first[uu] + (rng.random(ns) * np.maximum(self.enr_count[uu], 1)).astype(np.int64)
        enr = np.where(has_enr, np.minimum(enr, max(self.enr_user.size - 1, 0)), 0)
        if self.enr_user.size:
            course = np.where(has_enr, self.enr_course[enr], rng.choice(self.C, ns, p=self.popularity))
            reached = np.where(has_enr, self.enr_reached[enr], 1)
            es = np.where(has_enr, self.enr_start[enr], self.ws_ms)
            ee = np.where(has_enr, self.enr_end[enr], self.anchor_ms)
        else:
            course = rng.choice(self.C, ns, p=self.popularity)
            reached, es, ee = np.ones(ns, np.int64), np.full(ns, self.ws_ms), np.full(ns, self.anchor_ms)
        t = self.s_start[s0:s1]
        frac = np.clip((t - es) / np.maximum(ee - es, 1), 0, 0.999)
        lesson_n = np.clip(1 + (frac * reached + rng.random(ns) - 0.5).astype(np.int64), 1, reached)
        # per event
        sidx = np.repeat(np.arange(ns), size)
        first = np.zeros(n, dtype=bool)
        first[np.cumsum(size) - size] = True
        kind = np.empty(n, dtype=np.int64)
        cls = np.where(su < 0, 2, np.where(has_enr, 0, 1))[sidx]
        for c, name in enumerate(("learner", "browser", "anon")):
            m = cls == c
            cnt = int(m.sum())
            if cnt:
                kind[m] = rng.choice(len(KINDS), cnt, p=lv["p"][name])
        r = rng.random(n)
        kind = np.where(first & (cls == 0), np.where(r < 0.55, 7, np.where(r < 0.85, 9, 10)), kind)
        kind = np.where(first & (cls == 1), np.where(r < 0.6, 7, 10), kind)
        kind = np.where(first & (cls == 2), np.where(r < 0.5, 14, 9), kind)
        gaps = np.minimum(rng.exponential(45_000.0, n), 600_000).astype(np.int64) + 1000
        cs = np.cumsum(gaps)
        ts = t[sidx] + cs - gaps - (cs - gaps)[first][sidx]
        ts = np.minimum(ts, self.anchor_ms - 1)
        dur_present = ~np.isin(kind, (6, 12, 17))
        last = np.r_[first[1:], True]
        dur = np.where(last, rng.integers(5, 300, n), gaps // 1000)
        ecourse = course[sidx]
        enl = lesson_n[sidx]
        is_lesson = lv["lesson_kind"][kind]
        is_course = lv["course_kind"][kind]
        path = np.where(
            is_lesson,
            lv["lesson_base"] + self.lesson_off[ecourse] + enl - 1,
            np.where(is_course, len(GENERAL_PATHS) + ecourse, lv["kind_path"][kind]),
        )
        metric = np.where(is_lesson, lv["metric"][kind], 0)
        value = np.where(
            metric == 1,
            rng.integers(5, 101, n),
            np.where(metric == 2, rng.integers(0, 1800, n), rng.integers(0, 11, n) * 10),
        )
        pa = np.where(is_lesson, len(REFERRERS) + ecourse, rng.integers(0, len(REFERRERS), n))
        pc = np.where(is_lesson, np.where(metric == 0, 1, metric + 1), 0)
        pe = (is_lesson & (metric > 0)).astype(np.int64)
        user_piece = _nullable(_fixed(self.user_ids[uu[sidx]]), (su < 0)[sidx])
        cols = [
            _fixed(_uuid_mat(rng, n)),
            user_piece,
            _fixed(sess_ids[sidx]),
            lv["path"].piece(path),
            lv["event"].piece(kind),
            _nullable(
                lv["category"].piece(kind), _rng(self.seed, "log_category", b).random(n) < NULL_CATEGORY_SHARE
            ),
            _nullable(_int_piece(dur), ~dur_present),
            lv["device"].piece(device[sidx]),
            [
                lv["pay_a"].piece(pa),
                _int_piece(enl, is_lesson),
                lv["pay_c"].piece(pc),
                _int_piece(value, metric > 0),
                lv["pay_e"].piece(pe),
            ],
            _ts_piece(ts),
        ]
        return _assemble(cols, n), n

    def log_chunk_blocks(self, k):
        return range(k * self._bpc, min(self.n_blocks, (k + 1) * self._bpc))


# ------------------------------------------------------------------------------------------
# Database side
# ------------------------------------------------------------------------------------------


def _q(name):
    return '"{}"'.format(name.replace('"', '""'))


def _existing_tables(conn):
    rows = conn.execute(
        "SELECT t, to_regclass(format('%%I', t)) IS NOT NULL FROM unnest(%s::text[]) AS t",
        (list(APP_TABLES),),
    ).fetchall()
    return {t: ok for t, ok in rows}


def table_counts(conn, tables=None):
    """Exact row counts of the app tables (or ``tables``)."""
    tables = list(tables or APP_TABLES)
    if not tables:
        return {}
    sql = " UNION ALL ".join("SELECT {}, count(*) FROM {}".format(f"'{t}'", _q(t)) for t in tables)
    return {t: int(c) for t, c in conn.execute(sql).fetchall()}


def table_bytes(conn, tables=None):
    tables = list(tables or APP_TABLES)
    rows = conn.execute(
        "SELECT t, pg_total_relation_size(to_regclass(format('%%I', t))) FROM unnest(%s::text[]) AS t",
        (tables,),
    ).fetchall()
    return {t: int(b or 0) for t, b in rows}


def table_checksums(conn, tables=None):
    """md5 of every row (as text, ordered by id) per table: equal contents <=> equal sums.

    Runs in UTC with fixed float output so the text form of each row is stable.  Used by
    the determinism tests and by backup/restore verification.  Returns {table: md5 hex or
    None for an empty table}.
    """
    tables = list(tables or APP_TABLES)
    out = {}
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET LOCAL extra_float_digits = 1")
        conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        for t in tables:
            row = conn.execute(
                f"SELECT md5(string_agg(x::text, '|' ORDER BY x.id COLLATE \"C\")) FROM {_q(t)} x"
            ).fetchone()
            out[t] = row[0]
    return out


_LEDGER_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.seed_ledger (
    id            bigserial PRIMARY KEY,
    params        jsonb NOT NULL,
    preset        text NOT NULL,
    seed          bigint NOT NULL,
    users         integer NOT NULL,
    courses       integer NOT NULL,
    behavior_logs bigint NOT NULL,
    days          integer NOT NULL,
    anchor_date   date NOT NULL,
    status        text NOT NULL CHECK (status IN ('loading', 'complete', 'replaced')),
    chunk_rows    integer NOT NULL,
    steps_total   integer NOT NULL,
    steps_done    text[] NOT NULL DEFAULT '{}',
    saved_ddl     jsonb NOT NULL DEFAULT '[]',
    bytes_before  bigint NOT NULL DEFAULT 0,
    table_counts  jsonb,
    bytes_written bigint,
    seconds       double precision,
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS seed_ledger_one_current
    ON ops.seed_ledger ((true)) WHERE status IN ('loading', 'complete');
COMMENT ON TABLE ops.seed_ledger IS
    'ved-db-ops seeder: one row per seed of the app tables (module_utils/vedfin_seed.py)';
"""

_LEDGER_COLS = (
    "id, params, status, chunk_rows, steps_total, steps_done, saved_ddl, bytes_before, table_counts, "
    "bytes_written, seconds, started_at, finished_at"
)


def _current_ledger(conn):
    if conn.execute("SELECT to_regclass('ops.seed_ledger')").fetchone()[0] is None:
        return None
    row = conn.execute(
        f"SELECT {_LEDGER_COLS} FROM ops.seed_ledger "
        "WHERE status IN ('loading', 'complete') ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return dict(zip([c.strip() for c in _LEDGER_COLS.split(",")], row, strict=True))


def _secondary_ddl(conn, table, with_pk):
    """Exact DDL of the FK constraints, the non-constraint indexes and (``with_pk``) the
    primary key of ``table``, in drop order."""
    out = []
    for name, rel, ddl in conn.execute(
        "SELECT c.conname, c.conrelid::regclass::text, format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', "
        "c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) FROM pg_constraint c "
        "WHERE c.conrelid = to_regclass(%s) AND c.contype = 'f' ORDER BY c.conname",
        (_q(table),),
    ).fetchall():
        out.append({"table": table, "kind": "fk", "name": name, "relation": rel, "ddl": ddl})
    for name, rel, ddl in conn.execute(
        "SELECT ci.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class ci ON ci.oid = i.indexrelid WHERE i.indrelid = to_regclass(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY ci.relname",
        (_q(table),),
    ).fetchall():
        out.append({"table": table, "kind": "index", "name": name, "relation": rel, "ddl": ddl})
    if with_pk:
        for name, rel, idx, ddl, index_ddl in conn.execute(
            "SELECT c.conname, c.conrelid::regclass::text, c.conindid::regclass::text, "
            "format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', c.conrelid::regclass, c.conname, "
            "pg_get_constraintdef(c.oid)), pg_get_indexdef(c.conindid) FROM pg_constraint c "
            "WHERE c.conrelid = to_regclass(%s) AND c.contype = 'p'",
            (_q(table),),
        ).fetchall():
            out.append(
                {
                    "table": table,
                    "kind": "pk",
                    "name": name,
                    "relation": rel,
                    "index": idx,
                    "ddl": ddl,
                    "index_ddl": index_ddl,
                }
            )
    return out


def _drop_secondary(conn, ddl):
    for kind in ("fk", "index", "pk"):
        for item in ddl:
            if item["kind"] != kind:
                continue
            if kind == "index":
                conn.execute("DROP INDEX {}".format(item["relation"]))
            else:
                conn.execute("ALTER TABLE {} DROP CONSTRAINT {}".format(item["relation"], _q(item["name"])))


def _has_constraint(conn, item):
    return (
        conn.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
            (_q(item["table"]), item["name"]),
        ).fetchone()
        is not None
    )


def _restore_secondary(
    conn_factory, conn, ddl, maintenance_work_mem="1GB", timings=None, first_jobs=(), last_jobs=()
):
    """Recreate what _drop_secondary dropped, skipping what exists (a resumed finish).

    Indexes (and the unique indexes behind primary keys) are built on one session per CPU
    in parallel, biggest tables (and their primary keys) first, after ``first_jobs`` and
    before ``last_jobs`` ((name, callable(connection)) pairs run in the same pool: the
    rollup rebuild, ANALYZE); then ``ADD CONSTRAINT ... PRIMARY KEY USING INDEX``,
    then the FKs (validated in one pass each).  ``timings`` (a dict) receives
    ``indexes`` {name: seconds} (the jobs included), ``indexes_wall`` (the pool),
    ``constraints`` {name: seconds}, ``constraints_wall``.
    """
    timings = {} if timings is None else timings
    order = {t: i for i, t in enumerate(BIG_TABLES[::-1])}
    builds = []
    for item in sorted(ddl, key=lambda it: (order.get(it["table"], 99), it["kind"] != "pk")):
        if (
            item["kind"] == "index"
            and conn.execute("SELECT to_regclass(%s)", (item["relation"],)).fetchone()[0] is None
        ):
            builds.append((item["name"], item["ddl"]))
        elif (
            item["kind"] == "pk"
            and not _has_constraint(conn, item)
            and conn.execute("SELECT to_regclass(%s)", (item["index"],)).fetchone()[0] is None
        ):
            builds.append((item["index"].split(".")[-1].strip('"'), item["index_ddl"]))
    index_times = timings.setdefault("indexes", {})
    t0 = time.monotonic()
    jobs = [*first_jobs, *builds, *last_jobs]
    if jobs:
        _parallel_ddl(conn_factory, jobs, maintenance_work_mem, timings=index_times)
    timings["indexes_wall"] = round(time.monotonic() - t0, 3)
    cons = timings.setdefault("constraints", {})
    t0 = time.monotonic()
    for item in ddl:
        if item["kind"] == "pk" and not _has_constraint(conn, item):
            t1 = time.monotonic()
            conn.execute(
                "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}".format(
                    item["relation"], _q(item["name"]), item["index"].split(".")[-1]
                )
            )
            cons[item["name"]] = round(time.monotonic() - t1, 3)
    with conn.transaction():
        # FK validation reads the referenced tables' fresh pages: a large work_mem helps
        # its anti-join; nothing here fires triggers.
        conn.execute(f"SET LOCAL maintenance_work_mem = '{maintenance_work_mem}'")
        conn.execute("SET LOCAL work_mem = '256MB'")
        for item in ddl:
            if item["kind"] == "fk" and not _has_constraint(conn, item):
                t1 = time.monotonic()
                conn.execute(item["ddl"])
                cons[item["name"]] = round(time.monotonic() - t1, 3)
                _debug("{:.2f}s {}".format(time.monotonic() - t1, item["ddl"]))
    timings["constraints_wall"] = round(time.monotonic() - t0, 3)
    return timings


def _parallel_ddl(conn_factory, statements, maintenance_work_mem, workers=None, timings=None):
    """Run independent jobs ((name, sql or callable(connection)) pairs, biggest first: CREATE
    INDEX statements, the rollup rebuild, ANALYZE) on ``workers`` autocommit sessions
    (default: one per CPU, at least 2)."""
    import threading

    workers = workers or max(2, os.cpu_count() or 2)
    queue = list(statements)
    errors = []
    lock = threading.Lock()
    timings = {} if timings is None else timings

    def work():
        try:
            with conn_factory(autocommit=True) as c:
                c.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
                c.execute("SET max_parallel_maintenance_workers = 0")
                while True:
                    with lock:
                        if not queue or errors:
                            return
                        name, stmt = queue.pop(0)
                    t0 = time.monotonic()
                    if callable(stmt):
                        stmt(c)
                    else:
                        c.execute(stmt)
                    timings[name] = round(time.monotonic() - t0, 3)
                    _debug(f"{time.monotonic() - t0:.2f}s {name}")
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(min(workers, len(statements)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _debug(msg):
    if os.environ.get("VED_SEED_DEBUG"):
        print(f"[vedfin_seed] {msg}", file=sys.stderr, flush=True)


def _copy(cur, table, columns, data_iter, freeze=False):
    """COPY the buffers of ``data_iter`` into ``table``.  A writer thread sends the data
    while the caller generates the next buffers (numpy and the socket release the GIL), so
    generation overlaps the server's parsing.  Returns the seconds spent generating."""
    stmt = "COPY {} ({}) FROM STDIN{}".format(
        _q(table), ", ".join(_q(c) for c in columns), " (FREEZE)" if freeze else ""
    )
    gen = 0.0
    # psycopg < 3.2 (Debian 12 ships 3.1.7) has no queued writer: plain COPY, same data.
    kwargs = {"writer": QueuedLibpqWriter(cur)} if QueuedLibpqWriter is not None else {}
    with cur.copy(stmt, **kwargs) as cp:
        it = iter(data_iter)
        while True:
            t0 = time.monotonic()
            buf = next(it, None)
            gen += time.monotonic() - t0
            if buf is None:
                break
            if buf:
                cp.write(buf)
    return gen


# ------------------------------------------------------------------------------------------
# The entry point
# ------------------------------------------------------------------------------------------


def _refuse(msg):
    raise SeedError(msg)


def seed(
    conn_params,
    preset="demo",
    seed=1,
    users=None,
    courses=None,
    behavior_logs=None,
    days=None,
    anchor_date=None,
    replace=False,
    force=False,
    environment=None,
    allow_production=False,
    disposable=False,
    check_mode=False,
    chunk_rows=DEFAULT_CHUNK_ROWS,
    on_step=None,
    connect_fn=None,
):
    """Seed the app tables of the database ``conn_params`` (module connection params).

    Returns a dict: changed, operation (seed/resume/replace/none), params, table_counts,
    rows_loaded, seconds, rows_per_second, mb_written, ledger_id, steps.  Raises SeedError
    (nothing written) on refusal or bad input.  ``on_step(name)`` is called after each
    committed step (tests use it to slow a load down).

    ``environment``/``disposable``/``allow_production``: see ``check_environment``. The
    Ansible module always checks them (a missing environment is refused there); this Python
    API checks them whenever ``environment`` is given, and leaves ``None`` to the tests'
    throwaway servers.
    """
    t_start = time.monotonic()
    if environment is not None or disposable:
        check_environment(environment, disposable, allow_production)
    if not HAS_NUMPY:
        _refuse("the Python library numpy is required by the seeder but not installed")
    params = normalize_params(preset, seed, users, courses, behavior_logs, days, anchor_date)
    chunk_rows = _as_int("chunk_rows", chunk_rows)
    if not 100 <= chunk_rows <= 50_000_000:
        _refuse(f"chunk_rows must be between 100 and 50000000, got {chunk_rows}")
    connect_fn = connect_fn or (
        lambda autocommit=False: connect(
            conn_params, autocommit=autocommit, application_name="ved-db-ops seed"
        )
    )
    conn = connect_fn(autocommit=True)
    try:
        return _seed(conn, connect_fn, params, replace, force, check_mode, chunk_rows, on_step, t_start)
    finally:
        conn.close()


def _seed(conn, connect_fn, params, replace, force, check_mode, chunk_rows, on_step, t_start):
    present = _existing_tables(conn)
    missing = [t for t, ok in present.items() if not ok]
    if missing:
        _refuse(
            "database does not hold the application schema: missing table(s) {} "
            "(apply sql/schema/ first)".format(", ".join(missing))
        )
    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()[0]
    if not got:
        _refuse("another seed is running on this database (advisory lock held)")
    try:
        ledger = _current_ledger(conn)
        if params["anchor_date"] is None:
            if ledger and _without_anchor(ledger["params"]) == _without_anchor(params):
                params["anchor_date"] = ledger["params"]["anchor_date"]
            else:
                params["anchor_date"] = _today().isoformat()
        counts = table_counts(conn)
        ident = _identity(params)
        foreign = {t: c for t, c in counts.items() if c}
        action = "seed"
        if ledger is not None:
            same = ledger["params"] == ident
            tampered = ledger["status"] == "complete" and ledger["table_counts"] != counts
            if same and ledger["status"] == "complete" and not tampered:
                return _result(False, "none", params, counts, 0, t_start, 0, ledger["id"], [], check_mode)
            if tampered and not force:
                diff = {
                    t: "{} -> {}".format(ledger["table_counts"].get(t), c)
                    for t, c in counts.items()
                    if ledger["table_counts"].get(t) != c
                }
                _refuse(
                    "the app tables changed since the recorded seed (ledger id {}): {}; pass force=true to "
                    "truncate and reseed".format(
                        ledger["id"], ", ".join(f"{t} {d}" for t, d in sorted(diff.items()))
                    )
                )
            if same and ledger["status"] == "loading":
                action = "resume"
            elif same:
                action = "replace"  # tampered + force
            elif not replace:
                _refuse(
                    "database already seeded with different parameters (ledger id {}: {}); requested {}; "
                    "pass replace=true to truncate the seeded tables and reseed".format(
                        ledger["id"], _fmt_params(ledger["params"]), _fmt_params(ident)
                    )
                )
            else:
                action = "replace"
        elif foreign and not force:
            _refuse(
                "the app tables hold rows not written by this seeder (no ledger in ops.seed_ledger): {}; "
                "pass force=true to truncate them and seed".format(
                    ", ".join("{}={}".format(*kv) for kv in sorted(foreign.items()))
                )
            )
        plan = Plan(ident)
        expected = plan.counts()
        if action == "resume":
            chunk_rows = ledger["chunk_rows"]
        steps = plan.steps(chunk_rows)
        if check_mode:
            res = _result(
                True,
                action,
                params,
                expected,
                0,
                t_start,
                0,
                ledger["id"] if ledger else None,
                steps,
                check_mode,
            )
            res["would_load"] = expected
            return res
        return _load(
            conn, connect_fn, plan, ident, ledger, action, steps, chunk_rows, on_step, t_start, params
        )
    finally:
        with contextlib.suppress(Exception):  # the connection may be gone; the lock dies with it
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _fmt_params(p):
    return "preset={} seed={} users={} courses={} behavior_logs={} days={} anchor_date={}".format(
        p.get("preset"),
        p.get("seed"),
        p.get("users"),
        p.get("courses"),
        p.get("behavior_logs"),
        p.get("days"),
        p.get("anchor_date"),
    )


# Full rebuild functions of the ops rollups (sql/migrations/0003, 0004, 0006, 0008-0010), in
# rebuild order (0006 replaces the first so that it also fills ops.user_activity; 0010's
# ops.rebuild_user_cohort reads ops.user_day; 0009's ops.rebuild_user_score reads
# ops.user_progress, ops.user_course_progress and ops.user_activity).
ROLLUP_REBUILDS = (
    "ops.rebuild_behavior_rollups",
    "ops.rebuild_enrollment",
    "ops.rebuild_calendar",
    "ops.rebuild_user_cohort",
    "ops.rebuild_progress",
    "ops.rebuild_level_progress",
    "ops.rebuild_user_score",
)


def _rollup_rebuilds(conn):
    """The rollup rebuild functions present in the database (ROLLUP_REBUILDS order)."""
    have = {
        r[0]
        for r in conn.execute(
            "SELECT n.nspname || '.' || p.proname FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = ANY(%s)",
            (list(ROLLUP_REBUILDS),),
        ).fetchall()
    }
    return [f for f in ROLLUP_REBUILDS if f in have]


# Tables the rebuild functions write (ops rollups); their indexes are rebuilt around them.
ROLLUP_TABLES = (
    "ops.activity_15m",
    "ops.user_session",
    "ops.course_path_session",
    "ops.enrollment",
    "ops.user_activity",
    "ops.course_path_stats",
    "ops.user_day",
    "ops.session_day",
    "ops.user_month",
    "ops.session_month",
    "ops.day_stats",
    "ops.month_stats",
    "ops.user_course_progress",
    "ops.user_progress",
    "ops.course_progress",
    "ops.user_score",
    "ops.level_progress",
    "ops.level_stats",
    "ops.course_progress_sum",
    "ops.user_cohort",
)


def _rollup_index_ddl(conn):
    """(drop, create) statement pairs for the indexes and primary-key/unique constraints of
    the existing ROLLUP_TABLES, in drop order (constraints first)."""
    out = []
    for rel, name, ddl in conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.conrelid = ANY(SELECT to_regclass(t) FROM unnest(%s::text[]) t) AND c.contype IN ('p', 'u') "
        "ORDER BY 1, 2",
        (list(ROLLUP_TABLES),),
    ).fetchall():
        out.append(
            (
                f"ALTER TABLE {rel} DROP CONSTRAINT {_q(name)}",
                f"ALTER TABLE {rel} ADD CONSTRAINT {_q(name)} {ddl}",
            )
        )
    for idx, ddl in conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(SELECT to_regclass(t) FROM unnest(%s::text[]) t) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1",
        (list(ROLLUP_TABLES),),
    ).fetchall():
        out.append((f"DROP INDEX {idx}", ddl))
    return out


def _rebuild_rollups(c, rebuilds, timings, maintenance_work_mem="1GB"):
    """Run the rollup rebuild functions in one transaction of connection ``c``.  The
    rollup tables' indexes are dropped first and rebuilt after the functions filled the
    tables (sorted builds instead of one random btree insert per row and index), in the
    same transaction: a crash rolls the drops back.  If an index cannot be dropped (say a
    foreign key of another table depends on it) the rebuild runs with the indexes.

    The functions rebuild every rollup themselves, so the rollup tables' own triggers (0009:
    ops.user_course_progress and ops.user_activity feed other rollups with upserts, which
    need the dropped keys) are switched off with ``session_replication_role = replica``;
    without the rights for that the indexes stay and the triggers just do redundant work."""
    import psycopg

    with c.transaction():
        c.execute("SET LOCAL work_mem = '256MB'")
        c.execute(f"SET LOCAL maintenance_work_mem = '{maintenance_work_mem}'")
        c.execute("SET LOCAL max_parallel_maintenance_workers = 0")
        if _is_superuser(c):
            c.execute("SET LOCAL session_replication_role = replica")
            pairs = _rollup_index_ddl(c)
        else:
            pairs = []
        try:
            with c.transaction():
                for drop, _create in pairs:
                    c.execute(drop)
        except psycopg.Error:
            pairs = []
        for fn in rebuilds:
            t1 = time.monotonic()
            c.execute(f"SELECT {fn}()")
            timings[fn] = round(time.monotonic() - t1, 3)
        t1 = time.monotonic()
        for _drop, create in reversed(pairs):
            c.execute(create)
        if pairs:
            timings["rollup indexes"] = round(time.monotonic() - t1, 3)


def _is_superuser(conn):
    return conn.execute("SELECT current_setting('is_superuser') = 'on'").fetchone()[0]


def _bulk_mode(conn, rebuilds, warnings):
    """Decide how the load treats the rollup triggers.  Returns 'replica' (this session
    loads with ``session_replication_role = replica``: no trigger fires, the rollups are
    rebuilt in the completion step), 'triggers' (not superuser: the triggers fire and keep
    the rollups exact, slowly) or None (no rollups in this database)."""
    if not rebuilds:
        return None
    if _is_superuser(conn):
        return "replica"
    warnings.append(
        "the rollup triggers on BehaviorLog/UserProgress fire during this load (about 3x slower): "
        "session_replication_role = replica needs a superuser and {} is not one; connect as "
        "postgres to load without them (the rollups are rebuilt at the end either way)".format(
            conn.execute("SELECT current_user").fetchone()[0]
        )
    )
    return "triggers"


def _first_steps(steps):
    """The first step loading each table: it may TRUNCATE its table(s) and COPY FREEZE."""
    out, seen = set(), set()
    for st in steps:
        kind = st.split(":")[0]
        if kind not in seen:
            seen.add(kind)
            out.add(st)
    return out


def _load(conn, connect_fn, plan, ident, ledger, action, steps, chunk_rows, on_step, t_start, params):
    rows_loaded = 0
    warnings = []
    phases = {"prepare": 0.0, "generate": 0.0, "copy": {}, "copy_generate": {}}
    t0 = time.monotonic()
    rebuilds = _rollup_rebuilds(conn)
    mode = _bulk_mode(conn, rebuilds, warnings)
    if action != "resume":
        with conn.transaction():
            conn.execute(_LEDGER_DDL)
            if ledger is not None:
                conn.execute("UPDATE ops.seed_ledger SET status = 'replaced' WHERE id = %s", (ledger["id"],))
            # Still session_replication_role = origin: the rollups' TRUNCATE triggers empty
            # them along with the app tables (the completion step rebuilds them). CASCADE: the
            # app's tables the seeder does not fill (chat, quizzes, tokens, ...) reference
            # these; a seed replaces all app data, so they are emptied too.
            conn.execute("TRUNCATE {} CASCADE".format(", ".join(_q(t) for t in APP_TABLES)))
            ddl = []
            for t in APP_TABLES:
                ddl += _secondary_ddl(conn, t, with_pk=t in BIG_TABLES)
            _drop_secondary(conn, ddl)
            before = sum(table_bytes(conn).values())
            ledger_id = conn.execute(
                "INSERT INTO ops.seed_ledger (params, preset, seed, users, courses, behavior_logs, days, "
                "anchor_date, "
                "status, chunk_rows, steps_total, saved_ddl, bytes_before) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, 'loading', %s, %s, %s, %s) RETURNING id",
                (
                    json.dumps(ident),
                    ident["preset"],
                    ident["seed"],
                    ident["users"],
                    ident["courses"],
                    ident["behavior_logs"],
                    ident["days"],
                    ident["anchor_date"],
                    chunk_rows,
                    len(steps),
                    json.dumps(ddl),
                    before,
                ),
            ).fetchone()[0]
        ledger = _current_ledger(conn)
    ledger_id = ledger["id"]
    done = set(ledger["steps_done"])
    firsts = _first_steps(steps)
    base_tables = [t for t in APP_TABLES if t not in BIG_TABLES]
    phases["prepare"] = round(time.monotonic() - t0, 3)
    if mode == "replica":
        # Only this session: a crash takes the setting with it (unlike DISABLE TRIGGER).
        conn.execute("SET session_replication_role = replica")
    cur = conn.cursor()

    def account(table, wall, gen):
        phases["copy"][table] = round(phases["copy"].get(table, 0.0) + wall, 3)
        phases["copy_generate"][table] = round(phases["copy_generate"].get(table, 0.0) + gen, 3)
        phases["generate"] = round(phases["generate"] + gen, 3)

    try:
        for step in steps:
            if step in done:
                continue
            # The first step of a table runs while nothing else of that table is committed
            # (steps commit in order), so it may empty the table again in its own
            # transaction and COPY FREEZE: rows land frozen and all-visible, sparing the
            # hint-bit rewrite of every page by the index builds and ANALYZE.
            freeze = step in firsts
            with conn.transaction():
                if step == "base":
                    if freeze:
                        # CASCADE reaches only the app's unseeded tables (already empty): the
                        # big tables' foreign keys are dropped for the load.
                        conn.execute("TRUNCATE {} CASCADE".format(", ".join(_q(t) for t in base_tables)))
                    it = plan.base_tables()
                    while True:
                        g0 = time.monotonic()
                        item = next(it, None)
                        gen = time.monotonic() - g0
                        if item is None:
                            break
                        table, cols, data = item
                        c0 = time.monotonic()
                        _copy(cur, table, cols, [data], freeze=freeze)
                        account(table, time.monotonic() - c0 + gen, gen)
                        rows_loaded += data.count(b"\n")
                elif step.startswith("UserProgress:"):
                    if freeze:
                        conn.execute('TRUNCATE "UserProgress"')
                    c0 = time.monotonic()
                    data, n = plan.progress_chunk(int(step.split(":")[1]))
                    gen = time.monotonic() - c0
                    _copy(cur, "UserProgress", Plan.PROGRESS_COLUMNS, [data], freeze=freeze)
                    account("UserProgress", time.monotonic() - c0, gen)
                    rows_loaded += n
                else:
                    if freeze:
                        conn.execute('TRUNCATE "BehaviorLog"')
                    k = int(step.split(":")[1])
                    counter = [0]

                    def gen(k=k, counter=counter):
                        for b in plan.log_chunk_blocks(k):
                            data, n = plan.log_block(b)
                            counter[0] += n
                            yield data

                    c0 = time.monotonic()
                    g = _copy(cur, "BehaviorLog", Plan.LOG_COLUMNS, gen(), freeze=freeze)
                    account("BehaviorLog", time.monotonic() - c0, g)
                    rows_loaded += counter[0]
                conn.execute(
                    "UPDATE ops.seed_ledger SET steps_done = array_append(steps_done, %s) WHERE id = %s",
                    (step, ledger_id),
                )
            if on_step is not None:
                on_step(step)
    finally:
        if mode == "replica" and not conn.closed:
            with contextlib.suppress(Exception):
                conn.execute("RESET session_replication_role")
    # Finish: indexes, rollups, statistics, FKs, ledger.  The rollup rebuild only reads
    # the (now complete) heaps, so it runs in the same session pool as the index builds
    # (first: it is the longest job), and ANALYZE last.  'complete' is recorded only after
    # it committed; a kill before that leaves 'loading' and the rerun (a resume) rebuilds
    # again, so a complete seed always has exact rollups.
    phases["rollups"] = {}
    first_jobs = []
    if mode == "replica" or (mode == "triggers" and action == "resume"):

        def rebuild_rollups(c):
            import psycopg

            try:
                _rebuild_rollups(c, rebuilds, phases["rollups"])
            except psycopg.errors.InsufficientPrivilege as exc:
                if mode != "triggers":
                    raise
                # A resumed load whose earlier part ran without triggers, now without the
                # rights to rebuild: say so rather than fail the seed forever.
                warnings.append(
                    "could not rebuild the ops rollups ({}); they may miss rows loaded by an earlier, "
                    "interrupted run: run SELECT {}() as their owner".format(
                        " ".join(str(exc).split()), "(), ".join(rebuilds)
                    )
                )

        first_jobs.append(("rollups", rebuild_rollups))
    small = [t for t in APP_TABLES if t not in BIG_TABLES]
    last_jobs = [
        ("analyze:" + t, "ANALYZE " + ", ".join(_q(x) for x in group))
        for t, group in (("small", small), *((t, [t]) for t in BIG_TABLES))
    ]
    _restore_secondary(
        connect_fn, conn, ledger["saved_ddl"], timings=phases, first_jobs=first_jobs, last_jobs=last_jobs
    )
    phases["rollups_wall"] = phases["indexes"].pop("rollups", 0.0)
    phases["analyze"] = round(sum(phases["indexes"].pop(n) for n, _ in last_jobs), 3)
    counts = table_counts(conn)
    expected = plan.counts()
    if counts != expected:
        _refuse(f"seed finished with unexpected row counts {counts} (expected {expected})")
    with conn.transaction():
        after = sum(table_bytes(conn).values())
        written = max(0, after - int(ledger["bytes_before"]))
        seconds = time.monotonic() - t_start
        conn.execute(
            "UPDATE ops.seed_ledger SET status = 'complete', table_counts = %s, bytes_written = %s, "
            "seconds = coalesce(seconds, 0) + %s, finished_at = clock_timestamp() WHERE id = %s",
            (json.dumps(counts), written, seconds, ledger_id),
        )
    res = _result(True, action, params, counts, rows_loaded, t_start, written, ledger_id, steps, False)
    res["rollups"] = {
        "replica": "rebuilt",
        "triggers": "maintained by triggers",
        None: "none",
    }[mode]
    res["phases"] = phases
    res["warnings"] = warnings
    return res


def _result(changed, action, params, counts, rows_loaded, t_start, written, ledger_id, steps, check_mode):
    seconds = time.monotonic() - t_start
    return {
        "changed": changed,
        "operation": action,
        "check_mode": check_mode,
        "params": dict(params),
        "anchor_date": params.get("anchor_date"),
        "table_counts": counts,
        "rows_loaded": rows_loaded,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows_loaded / seconds, 1) if seconds > 0 and rows_loaded else 0.0,
        "mb_written": round(written / 1e6, 3),
        "mb_per_second": round(written / 1e6 / seconds, 3) if seconds > 0 and written else 0.0,
        "ledger_id": ledger_id,
        "steps": len(steps),
        "warnings": [],
    }


def params_digest(params):
    """Short stable digest of a seed identity (for names of bench databases, logs)."""
    return hashlib.sha256(json.dumps(_identity(params), sort_keys=True).encode()).hexdigest()[:12]
