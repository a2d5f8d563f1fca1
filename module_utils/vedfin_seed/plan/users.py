"""Users: roles, names, signup times, activity windows and weights (log-normal, ~10 %
churning students, ~5 % inactive), the app's optional fields, and the User rows.

Sets: ``U``, ``user_ids``, ``role``, ``fam``, ``mid``, ``given``, ``locale``, ``pw``,
``user_created``, ``churner``, ``active_start``, ``active_end``, ``weight``,
``session_weight``, ``birth_ms``, ``language``.
Reads: ``ws_ms``, ``anchor_ms``; for the rows also ``points`` and ``last_activity``
(gamification).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from ansible.module_utils.vedfin_seed.data import FAMILY, GIVEN, MIDDLE
from ansible.module_utils.vedfin_seed.encoder import py_copy, ts_texts, uuid_mat, uuid_texts
from ansible.module_utils.vedfin_seed.plan.common import DAY_MS, HOUR_MS, rng

ROLES = ("STUDENT", "TEACHER", "ADMIN")
LOCALES = ("vi", "en", "zh")
# bcrypt's alphabet: the fake password hashes are "$2b$10$" and 53 of these.
_BCRYPT_ALPHABET = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

USER_COLUMNS = [
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
]


class Users:
    """The users part of ``Plan``."""

    def _plan_users(self, seed, U):
        r = rng(seed, "user")
        self.U = U
        self.user_ids = uuid_mat(r, U)
        self.role = r.choice(3, U, p=[0.94, 0.05, 0.01])
        if U >= 50:
            self.role[0] = 2
        fam_w = np.array([f[3] for f in FAMILY], dtype=float)
        self.fam = r.choice(len(FAMILY), U, p=fam_w / fam_w.sum())
        self.mid = r.integers(0, len(MIDDLE), U)
        self.given = r.integers(0, len(GIVEN), U)
        self.locale = r.choice(3, U, p=[0.85, 0.12, 0.03])
        self.pw = r.integers(0, 64, size=(U, 53), dtype=np.uint8)
        D_ms = self.anchor_ms - self.ws_ms
        before = r.random(U) < 0.45
        created = np.where(
            before,
            self.ws_ms - (r.random(U) * 365 * DAY_MS).astype(np.int64),
            self.ws_ms + (r.random(U) ** 0.8 * (D_ms - HOUR_MS)).astype(np.int64),
        )
        self.user_created = created
        start = np.maximum(created, self.ws_ms)
        churner = (self.role == 0) & (r.random(U) < 0.10)
        churn_at = start + ((0.1 + 0.6 * r.random(U)) * (self.anchor_ms - start)).astype(np.int64)
        self.churner = churner
        self.active_start = start
        self.active_end = np.where(churner, churn_at, self.anchor_ms)
        inactive = r.random(U) < 0.05
        span_days = np.maximum(self.active_end - self.active_start, 0) / DAY_MS
        w = r.lognormal(0.0, 1.1, U)
        w = np.where(self.role == 0, w, w * 0.3)
        self.weight = np.where(inactive, 0.0, w)
        self.session_weight = self.weight * np.maximum(span_days, 1.0 / 24)
        if self.session_weight.sum() <= 0:
            self.session_weight[0] = 1.0
        # The app's optional User fields: most users never fill them in.
        orng = rng(seed, "user_optional")
        self.birth_ms = np.where(
            orng.random(U) < 0.55,
            self.ws_ms - ((16 + 30 * orng.random(U) ** 1.5) * 365.25 * DAY_MS).astype(np.int64),
            -1,
        )
        self.language = np.where(orng.random(U) < 0.3, self.locale, -1)

    @cached_property
    def user_id_texts(self):
        return uuid_texts(self.user_ids)

    @cached_property
    def user_created_texts(self):
        return ts_texts(self.user_created)

    def user_table(self):
        uid = self.user_id_texts
        pw = np.frombuffer(_BCRYPT_ALPHABET, np.uint8)[self.pw]
        last = np.where(self.last_activity >= 0, self.last_activity, self.user_created)
        u_created = self.user_created_texts
        u_updated = ts_texts(np.maximum(self.user_created, last))
        u_birth = ts_texts(self.birth_ms)
        rows = []
        for i in range(self.U):
            f, m, g = FAMILY[self.fam[i]], MIDDLE[self.mid[i]], GIVEN[self.given[i]]
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
                    ROLES[self.role[i]],
                    int(self.points[i]),
                    LOCALES[self.locale[i]],
                    LOCALES[self.language[i]] if self.language[i] >= 0 else None,
                    u_birth[i],
                    u_created[i],
                    u_updated[i],
                )
            )
        return "User", USER_COLUMNS, py_copy(rows)
