"""Enrollments and lesson progress: which students take which courses (by popularity), how
far they got (lessons 1..k-1 COMPLETED, lesson k STARTED / IN_PROGRESS, ~22 % finish), and
the UserProgress rows, encoded in chunks.

Sets: ``enr_user``, ``enr_course``, ``enr_first``, ``enr_count``, ``enr_reached``,
``enr_start``, ``enr_end``; ``pr_ids``, ``pr_user``, ``pr_lesson``, ``pr_status``,
``pr_spent``, ``pr_pct``, ``pr_pct_null``, ``pr_created``, ``pr_completed``,
``pr_updated``; ``completed_lessons``, ``completed_courses`` (per user).
Reads: users (``U``, ``role``, ``weight``, ``churner``, ``active_start``, ``active_end``)
and courses (``C``, ``published``, ``popularity``, ``n_pub_lessons``, ``lesson_off``,
``lesson_duration``, ``user_ids``, ``lesson_ids``).
"""

from __future__ import annotations

import numpy as np
from ansible.module_utils.vedfin_seed.encoder import (
    Vocab,
    assemble,
    fixed,
    float1_pieces,
    int_piece,
    nullable_pieces,
    ts_piece,
    uuid_mat,
)
from ansible.module_utils.vedfin_seed.plan.common import rng

# Share of progress rows whose client never sent progressPercentage (Float? in the app,
# issue 16): NULL there.
NULL_PROGRESS_SHARE = 0.04

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


class Progress:
    """The enrollments and UserProgress part of ``Plan``."""

    def _plan_enrollments(self, seed):
        r = rng(seed, "enroll")
        U, C = self.U, self.C
        eligible = (self.role == 0) & (self.weight > 0)
        k = np.where(eligible, 1 + r.poisson(np.minimum(self.weight, 6.0) * 0.9), 0)
        k = np.minimum(k, min(12, int(self.published.sum())))
        users = np.repeat(np.arange(U), k)
        courses = r.choice(C, users.size, p=self.popularity)
        key = np.unique(users.astype(np.int64) * C + courses)
        eu = key // C
        ec = key % C
        n = eu.size
        self.enr_user, self.enr_course = eu, ec
        self.enr_first = np.searchsorted(eu, np.arange(U))
        self.enr_count = np.bincount(eu, minlength=U)
        lpub = self.n_pub_lessons[ec]
        frac = r.beta(1.1, 1.6, n) * np.where(self.churner[eu], 0.5, 1.0)
        full = (r.random(n) < 0.22) & ~self.churner[eu]
        reached = np.where(full, lpub, np.maximum(1, np.ceil(frac * lpub).astype(np.int64)))
        reached = np.minimum(reached, lpub)
        self.enr_reached = reached
        span = self.active_end[eu] - self.active_start[eu]
        self.enr_start = self.active_start[eu] + (r.random(n) * 0.5 * span).astype(np.int64)
        self.enr_end = self.active_end[eu]
        # progress rows
        prng = rng(seed, "progress")
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
        self.pr_ids = uuid_mat(prng, rows)
        self.pr_user = self.enr_user[e]
        self.pr_lesson = lesson
        self.pr_status = status
        self.pr_spent = spent
        self.pr_pct = pct_tenths
        self.pr_pct_null = rng(seed, "progress_null").random(rows) < NULL_PROGRESS_SHARE
        self.pr_created = created
        self.pr_completed = np.where(completed, done_at, -1)
        self.pr_updated = np.where(completed, done_at, created + (0.02 * step).astype(np.int64))
        self.completed_lessons = np.bincount(self.pr_user[completed], minlength=U)
        self.completed_courses = np.bincount(eu[full], minlength=U)

    def progress_chunk(self, k):
        """(COPY text, rows) of UserProgress chunk k (``chunk_rows`` rows, see ``steps``)."""
        a = k * self._chunk_rows
        b = min(self.pr_user.size, a + self._chunk_rows)
        sl = slice(a, b)
        n = b - a
        status = Vocab(["STARTED", "IN_PROGRESS", "COMPLETED"])
        cols = [
            fixed(self.pr_ids[sl]),
            fixed(self.user_ids[self.pr_user[sl]]),
            fixed(self.lesson_ids[self.pr_lesson[sl]]),
            status.piece(self.pr_status[sl]),
            int_piece(self.pr_spent[sl]),
            nullable_pieces(float1_pieces(self.pr_pct[sl]), self.pr_pct_null[sl]),
            ts_piece(np.maximum(self.pr_completed[sl], 0), self.pr_completed[sl] < 0),
            ts_piece(self.pr_created[sl]),
            ts_piece(self.pr_updated[sl]),
        ]
        return assemble(cols, n), n
