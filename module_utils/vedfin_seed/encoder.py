"""PostgreSQL ``COPY ... FROM STDIN`` text (the default text format), built with numpy.

Big tables (UserProgress, BehaviorLog) are encoded column-wise with no per-row Python: a
column is one *piece* or a list of pieces, a piece being ``(mat, lens, right)``:

* ``mat``: an (n, width) uint8 matrix, one row of bytes per table row;
* ``lens``: the number of bytes of each row that count (int64 array), or None for all of
  ``width``;
* ``right``: the counting bytes are the last ``lens`` (right-aligned digits) instead of the
  first.

``assemble`` joins the pieces with tabs and newlines and keeps the counting bytes: the COPY
buffer of n rows. Helpers make pieces of constants, fixed-width matrices (UUIDs), categorical
codes (``Vocab``), non-negative integers, ``int.d`` decimals and timestamps, and put ``\\N``
(NULL) in the rows of a mask.

Small tables are encoded per row from Python values (``py_copy``); ``ts_texts`` gives their
timestamps.
"""

from __future__ import annotations

import json

import numpy as np

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_COLS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def uuid_mat(rng, n):
    """n random version-4 UUIDs (drawn from numpy Generator ``rng``) as an (n, 36) uint8
    matrix of lowercase text."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    hx = np.empty((n, 32), dtype=np.uint8)
    hx[:, 0::2] = _HEX[b >> 4]
    hx[:, 1::2] = _HEX[b & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _UUID_COLS] = hx
    return out


def uuid_texts(mat):
    """The rows of a ``uuid_mat`` as a list of str."""
    return [r.tobytes().decode() for r in mat]


def copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def jdump(value) -> str:
    """JSON text as the seed writes it (UTF-8, ``", "`` / ``": "`` separators)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


# ------------------------------------------------------------------------------------------
# Pieces (vectorised)
# ------------------------------------------------------------------------------------------


class Vocab:
    """A list of strings as a padded byte matrix, for categorical columns."""

    def __init__(self, strings, escape=True):
        encoded = [(copy_escape(s) if escape else s).encode() for s in strings]
        width = max(1, max((len(e) for e in encoded), default=1))
        self.mat = np.zeros((len(encoded), width), dtype=np.uint8)
        self.lens = np.zeros(len(encoded), dtype=np.int64)
        for i, e in enumerate(encoded):
            self.mat[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
            self.lens[i] = len(e)

    def piece(self, codes):
        """The piece of the strings at indexes ``codes``."""
        return (self.mat[codes], self.lens[codes], False)


def const(n, text: str):
    """``text`` in each of n rows."""
    raw = np.frombuffer(text.encode(), dtype=np.uint8)
    return (np.broadcast_to(raw, (n, raw.size)), None, False)


def fixed(mat):
    """Every byte of each row of ``mat`` (e.g. a ``uuid_mat``)."""
    return (mat, None, False)


def int_piece(values, present=None):
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


def nullable(piece, null_mask):
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


def nullable_pieces(pieces, null_mask):
    """A column made of several pieces, ``\\N`` where ``null_mask``: the first piece says it,
    the others are empty there."""
    if not null_mask.any():
        return pieces
    first, *rest = pieces
    out = [nullable(first, null_mask)]
    for mat, lens, right in rest:
        full = np.full(mat.shape[0], mat.shape[1], dtype=np.int64) if lens is None else lens
        out.append((mat, np.where(null_mask, 0, full), right))
    return out


def ts_piece(ms, null_mask=None):
    """Epoch milliseconds -> ``YYYY-MM-DD HH:MM:SS.mmm+00`` (fixed width 26)."""
    ms = np.asarray(ms, dtype=np.int64)
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").astype("S23")
    mat = np.empty((ms.size, 26), dtype=np.uint8)
    mat[:, :23] = text.view(np.uint8).reshape(-1, 23)
    mat[:, 10] = 32
    mat[:, 23:] = np.frombuffer(b"+00", dtype=np.uint8)
    piece = (mat, None, False)
    return piece if null_mask is None else nullable(piece, null_mask)


def float1_pieces(tenths):
    """Non-negative numbers given in tenths -> ``int.d`` text, as pieces."""
    tenths = np.asarray(tenths, dtype=np.int64)
    n = tenths.size
    return [int_piece(tenths // 10), const(n, "."), int_piece(tenths % 10)]


def assemble(columns, n):
    """Columns (each a piece or a list of pieces) -> COPY text bytes for n rows."""
    pieces = []
    for i, col in enumerate(columns):
        if i:
            pieces.append(const(n, "\t"))
        pieces.extend(col if isinstance(col, list) else [col])
    pieces.append(const(n, "\n"))
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


# ------------------------------------------------------------------------------------------
# Python rows (the small tables)
# ------------------------------------------------------------------------------------------


def py_copy(rows):
    """Python rows -> COPY text: None is NULL, bools t/f, dicts and lists JSON, str as is."""
    out = []
    for row in rows:
        fields = []
        for v in row:
            if v is None:
                fields.append("\\N")
            elif isinstance(v, bool):
                fields.append("t" if v else "f")
            elif isinstance(v, (dict, list)):
                fields.append(copy_escape(jdump(v)))
            elif isinstance(v, str):
                fields.append(copy_escape(v))
            else:
                fields.append(str(v))
        out.append("\t".join(fields))
    return ("\n".join(out) + "\n").encode() if out else b""


def ts_texts(ms):
    """Epoch milliseconds -> list of COPY timestamptz strings (None where negative)."""
    ms = np.asarray(ms, dtype=np.int64)
    text = np.char.add(np.datetime_as_string(np.maximum(ms, 0).astype("datetime64[ms]"), unit="ms"), "+00")
    out = [t.replace("T", " ") for t in text.tolist()]
    if (ms < 0).any():
        out = [None if m < 0 else t for m, t in zip(ms.tolist(), out, strict=True)]
    return out


def ts_text(ms) -> str:
    """One epoch millisecond value as a COPY timestamptz string."""
    return ts_texts([ms])[0]
