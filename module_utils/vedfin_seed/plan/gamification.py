"""Streaks, achievements and points, derived from the planned activity, and the
Achievement, UserStreak and UserAchievement rows.

Streaks come from the users' session days (UTC), achievements from per-user statistics
(completed lessons and courses, longest streak, active days, groups, posts, followers)
against each ACHIEVEMENTS criterion, points from lessons, active days and achievements.

Sets: ``last_activity``, ``active_days``, ``current_streak``, ``longest_streak``,
``st_ids``, ``st_frozen``, ``st_freezes``; ``ach_ids``, ``a_user``, ``a_kind``, ``a_ids``,
``a_awarded``, ``points``.
Reads: sessions (``s_user``, ``s_start``), progress (``completed_lessons``,
``completed_courses``), social (``groups_of_user``, ``posts_of_user``, ``followers``) and
users (``U``, ``active_start``, ``active_end``, ``user_created``).
"""

from __future__ import annotations

import numpy as np
from ansible.module_utils.vedfin_seed.data import ACHIEVEMENTS
from ansible.module_utils.vedfin_seed.encoder import py_copy, ts_text, ts_texts, uuid_mat
from ansible.module_utils.vedfin_seed.plan.common import DAY_MS, rng

ACHIEVEMENT_COLUMNS = [
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
]
STREAK_COLUMNS = [
    "id",
    "userId",
    "currentStreak",
    "longestStreak",
    "lastActivityDate",
    "streakFrozen",
    "freezesRemaining",
    "createdAt",
    "updatedAt",
]
USER_ACHIEVEMENT_COLUMNS = ["id", "userId", "type", "name", "description", "iconKey", "awardedAt"]


def achievement_description(a):
    """The localized description (NOT NULL in the app) of an ACHIEVEMENTS entry: the catalog's
    and each award's, as the app copies it."""
    return {"vi": f"Thành tích: {a[1]}", "en": f"Achievement: {a[2]}", "zh": f"成就：{a[3]}"}


class Gamification:
    """The streaks, achievements and points part of ``Plan``."""

    def _plan_streaks(self, seed):
        U = self.U
        known = self.s_user >= 0
        u = self.s_user[known]
        d = self.s_start[known] // DAY_MS
        self.last_activity = np.full(U, -1, dtype=np.int64)
        np.maximum.at(self.last_activity, u, self.s_start[known])
        self.active_days = np.zeros(U, dtype=np.int64)
        self.current_streak = np.zeros(U, dtype=np.int64)
        self.longest_streak = np.zeros(U, dtype=np.int64)
        if u.size:
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
        # the UserStreak rows' own fields
        srng = rng(seed, "streak")
        self.st_ids = uuid_mat(srng, U)
        self.st_frozen = (self.current_streak > 0) & (srng.random(U) < 0.05)
        self.st_freezes = srng.integers(0, 4, U)

    def _plan_achievements(self, seed):
        r = rng(seed, "achievement")
        U = self.U
        self.ach_ids = uuid_mat(r, len(ACHIEVEMENTS))
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
        self.a_ids = uuid_mat(r, au.size)
        span = np.maximum(self.active_end - self.active_start, 1)
        last = np.where(self.last_activity >= 0, self.last_activity, self.active_end)
        lo = self.active_start[self.a_user]
        hi = np.maximum(lo + 1, np.minimum(last[self.a_user] + 1, lo + span[self.a_user]))
        self.a_awarded = lo + (r.random(au.size) * (hi - lo)).astype(np.int64)
        ach_points = np.array([a[4] for a in ACHIEVEMENTS])
        self.points = (
            10 * self.completed_lessons
            + 2 * self.active_days
            + np.bincount(self.a_user, weights=ach_points[self.a_kind], minlength=U).astype(np.int64)
        )

    def achievement_table(self):
        created = ts_text(self.ws_ms - 400 * DAY_MS)
        rows = [
            (
                self.ach_ids[i].tobytes().decode(),
                a[0],
                {"vi": a[1], "en": a[2], "zh": a[3]},
                a[7],
                a[4],
                a[5],
                a[6],
                achievement_description(a),
                f"achievements/{a[0]}.svg",
                created,
                created,
            )
            for i, a in enumerate(ACHIEVEMENTS)
        ]
        return "Achievement", ACHIEVEMENT_COLUMNS, py_copy(rows)

    def streak_table(self):
        uid = self.user_id_texts
        # NOT NULL in the app (@default(now()) when the streak row is made at signup): a user
        # with no activity yet carries the signup time.
        s_last = ts_texts(np.where(self.last_activity >= 0, self.last_activity, self.user_created))
        s_updated = ts_texts(np.maximum(self.last_activity, self.user_created))
        u_created = self.user_created_texts
        rows = []
        for i in range(self.U):
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
        return "UserStreak", STREAK_COLUMNS, py_copy(rows)

    def user_achievement_table(self):
        uid = self.user_id_texts
        a_awarded = ts_texts(self.a_awarded)
        rows = []
        for i in range(self.a_user.size):
            a = ACHIEVEMENTS[self.a_kind[i]]
            rows.append(
                (
                    self.a_ids[i].tobytes().decode(),
                    uid[self.a_user[i]],
                    a[0],
                    {"vi": a[1], "en": a[2], "zh": a[3]},
                    achievement_description(a),
                    f"achievements/{a[0]}.svg",
                    a_awarded[i],
                )
            )
        return "UserAchievement", USER_ACHIEVEMENT_COLUMNS, py_copy(rows)
