"""What every part of the plan shares: time units and the random streams.

Each kind of content draws from a numpy PCG64 stream of its own, seeded with
``SeedSequence([seed, STREAM[kind], *more])``: one part's draws never shift another's, so
adding a column (its own stream) keeps every other row as it was. A stream's number must
never change or be reused (the content of a seed would change).
"""

from __future__ import annotations

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
LOCAL_OFFSET_MS = 7 * HOUR_MS  # Asia/Ho_Chi_Minh, no DST

STREAM = {
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


def rng(seed, stream, *more):
    """The numpy Generator of ``stream`` (a STREAM key) for ``seed`` (and ``more``, e.g. a
    BehaviorLog block number)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, STREAM[stream], *more])))
