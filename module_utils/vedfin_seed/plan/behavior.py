"""Sessions and BehaviorLog: when each session happens (evening peaks, a weekend dip, in
Asia/Ho_Chi_Minh local time; ~3 % anonymous), and its events, encoded per block.

The sessions (user, start, size) are planned up front, in time order. Their events are
drawn per block of ``SESSIONS_PER_BLOCK`` sessions from the stream ``("log", block)``, so a
block's rows depend on the seed and the block number only, never on the chunking of the
load.

Sets: ``S``, ``s_user`` (-1 = anonymous), ``s_start``, ``s_size``, ``n_blocks``.
Reads: users (``U``, ``session_weight``, ``active_start``, ``active_end``, ``user_ids``),
courses (``C``, ``slugs``, ``popularity``, ``lesson_off``, ``lesson_course``,
``lesson_order``) and enrollments (``enr_*``).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from ansible.module_utils.vedfin_seed.data import (
    ANON_P,
    BROWSER_P,
    DEVICES,
    GENERAL_PATHS,
    KINDS,
    LEARNER_P,
    METRICS,
    REFERRERS,
)
from ansible.module_utils.vedfin_seed.encoder import (
    Vocab,
    assemble,
    fixed,
    int_piece,
    jdump,
    nullable,
    ts_piece,
    uuid_mat,
)
from ansible.module_utils.vedfin_seed.plan.common import DAY_MS, HOUR_MS, LOCAL_OFFSET_MS, rng

SESSIONS_PER_BLOCK = 1024  # BehaviorLog randomness unit: content never depends on chunking
# Share of events without actionCategory (nullable in the app, issue 16).
NULL_CATEGORY_SHARE = 0.06

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


def _probs(weights):
    """{KINDS index: weight} -> probabilities over KINDS."""
    p = np.zeros(len(KINDS))
    for k, w in weights.items():
        p[k] = w
    return p / p.sum()


class Behavior:
    """The sessions and BehaviorLog part of ``Plan``."""

    def _plan_sessions(self, seed, E):
        r = rng(seed, "session")
        sizes = []
        total = 0
        while total < E:
            s = np.minimum(r.geometric(1.0 / 8.0, max(64, int((E - total) / 7))), 80)
            cs = np.cumsum(s)
            cut = int(np.searchsorted(cs, E - total))
            if cut < s.size:
                s = s[: cut + 1].copy()
                s[-1] -= int(s.sum()) - (E - total)
            sizes.append(s)
            total += int(s.sum())
        size = np.concatenate(sizes).astype(np.int64)
        S = size.size
        anon = r.random(S) < 0.03
        p = self.session_weight / self.session_weight.sum()
        user = r.choice(self.U, S, p=p)
        user = np.where(anon, -1, user)
        lo = np.where(anon, self.ws_ms, self.active_start[np.maximum(user, 0)])
        hi = np.where(anon, self.anchor_ms, self.active_end[np.maximum(user, 0)])
        # local calendar day with a weekend dip (1970-01-01 was a Thursday)
        dow_w = np.array([1.0, 1.0, 1.0, 0.97, 0.9, 0.65, 0.72])  # Mon..Sun
        day = np.empty(S, dtype=np.int64)
        todo = np.arange(S)
        for _ in range(30):
            t = lo[todo] + (r.random(todo.size) * np.maximum(hi[todo] - lo[todo], 1)).astype(np.int64)
            d = (t + LOCAL_OFFSET_MS) // DAY_MS
            ok = r.random(todo.size) < dow_w[(d + 3) % 7]
            day[todo[ok]] = d[ok]
            todo = todo[~ok]
            if not todo.size:
                break
        if todo.size:
            day[todo] = (lo[todo] + LOCAL_OFFSET_MS) // DAY_MS
        hour_w = np.array(
            [2, 1, 0.5, 0.3, 0.3, 0.6, 1.5, 3, 4, 4, 4, 4.5, 5.5, 4.5, 4, 4, 4.5, 5, 6, 8, 9, 8.5, 6, 3.5]
        )
        hour = r.choice(24, S, p=hour_w / hour_w.sum())
        start = day * DAY_MS - LOCAL_OFFSET_MS + hour * HOUR_MS + r.integers(0, HOUR_MS, S)
        top = np.maximum(hi - 2 * HOUR_MS, lo)
        start = np.where(start > top, start - DAY_MS, start)
        start = np.where(start < lo, start + DAY_MS, start)
        start = np.clip(start, lo, top)
        order = np.argsort(start, kind="stable")  # BehaviorLog is physically time ordered
        self.s_user = user[order]
        self.s_start = start[order]
        self.s_size = size[order]
        self.S = S
        self.n_blocks = -(-S // SESSIONS_PER_BLOCK)

    @cached_property
    def _log_vocab(self):
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
                devices.append(jdump({"os": os_, "browser": br, "type": ty, "app": app}))
        pay_a = [jdump({"referrer": r}) for r in REFERRERS] + [
            f'{{"course": "{s}", "lesson": ' for s in self.slugs
        ]
        return {
            "path": Vocab(paths),
            "lesson_base": lesson_base,
            "kind_path": kind_path,
            "event": Vocab([k[0] for k in KINDS]),
            "category": Vocab([k[1] for k in KINDS]),
            "device": Vocab(devices),
            "device_p": np.repeat(dw / dw.sum(), 2) * np.tile([0.8, 0.2], len(DEVICES)),
            "pay_a": Vocab(pay_a),
            "pay_c": Vocab(["", "}", ', "scroll": ', ', "position": ', ', "score": ']),
            "pay_e": Vocab(["", "}"]),
            "metric": np.array([METRICS.index(k[3]) for k in KINDS]),
            "lesson_kind": np.array([k[2] == "LESSON" for k in KINDS]),
            "course_kind": np.array([k[2] == "COURSE" for k in KINDS]),
            "p": {"learner": _probs(LEARNER_P), "browser": _probs(BROWSER_P), "anon": _probs(ANON_P)},
        }

    def log_block(self, b):
        """(COPY text, rows) of the sessions of block b (a function of (seed, b) and the plan
        only)."""
        lv = self._log_vocab
        r = rng(self.seed, "log", b)
        s0 = b * SESSIONS_PER_BLOCK
        s1 = min(self.S, s0 + SESSIONS_PER_BLOCK)
        ns = s1 - s0
        su = self.s_user[s0:s1]
        size = self.s_size[s0:s1]
        n = int(size.sum())
        if n == 0:
            return b"", 0
        sess_ids = uuid_mat(r, ns)
        device = r.choice(lv["device_p"].size, ns, p=lv["device_p"])
        uu = np.maximum(su, 0)
        has_enr = (su >= 0) & (self.enr_count[uu] > 0)
        enr = self.enr_first[uu] + (r.random(ns) * np.maximum(self.enr_count[uu], 1)).astype(np.int64)
        enr = np.where(has_enr, np.minimum(enr, max(self.enr_user.size - 1, 0)), 0)
        if self.enr_user.size:
            course = np.where(has_enr, self.enr_course[enr], r.choice(self.C, ns, p=self.popularity))
            reached = np.where(has_enr, self.enr_reached[enr], 1)
            es = np.where(has_enr, self.enr_start[enr], self.ws_ms)
            ee = np.where(has_enr, self.enr_end[enr], self.anchor_ms)
        else:
            course = r.choice(self.C, ns, p=self.popularity)
            reached, es, ee = np.ones(ns, np.int64), np.full(ns, self.ws_ms), np.full(ns, self.anchor_ms)
        t = self.s_start[s0:s1]
        frac = np.clip((t - es) / np.maximum(ee - es, 1), 0, 0.999)
        lesson_n = np.clip(1 + (frac * reached + r.random(ns) - 0.5).astype(np.int64), 1, reached)
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
                kind[m] = r.choice(len(KINDS), cnt, p=lv["p"][name])
        u = r.random(n)
        kind = np.where(first & (cls == 0), np.where(u < 0.55, 7, np.where(u < 0.85, 9, 10)), kind)
        kind = np.where(first & (cls == 1), np.where(u < 0.6, 7, 10), kind)
        kind = np.where(first & (cls == 2), np.where(u < 0.5, 14, 9), kind)
        gaps = np.minimum(r.exponential(45_000.0, n), 600_000).astype(np.int64) + 1000
        cs = np.cumsum(gaps)
        ts = t[sidx] + cs - gaps - (cs - gaps)[first][sidx]
        ts = np.minimum(ts, self.anchor_ms - 1)
        dur_present = ~np.isin(kind, (6, 12, 17))
        last = np.r_[first[1:], True]
        dur = np.where(last, r.integers(5, 300, n), gaps // 1000)
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
            r.integers(5, 101, n),
            np.where(metric == 2, r.integers(0, 1800, n), r.integers(0, 11, n) * 10),
        )
        pa = np.where(is_lesson, len(REFERRERS) + ecourse, r.integers(0, len(REFERRERS), n))
        pc = np.where(is_lesson, np.where(metric == 0, 1, metric + 1), 0)
        pe = (is_lesson & (metric > 0)).astype(np.int64)
        user_piece = nullable(fixed(self.user_ids[uu[sidx]]), (su < 0)[sidx])
        cols = [
            fixed(uuid_mat(r, n)),
            user_piece,
            fixed(sess_ids[sidx]),
            lv["path"].piece(path),
            lv["event"].piece(kind),
            nullable(
                lv["category"].piece(kind), rng(self.seed, "log_category", b).random(n) < NULL_CATEGORY_SHARE
            ),
            nullable(int_piece(dur), ~dur_present),
            lv["device"].piece(device[sidx]),
            [
                lv["pay_a"].piece(pa),
                int_piece(enl, is_lesson),
                lv["pay_c"].piece(pc),
                int_piece(value, metric > 0),
                lv["pay_e"].piece(pe),
            ],
            ts_piece(ts),
        ]
        return assemble(cols, n), n

    def log_chunk_blocks(self, k):
        """The blocks of BehaviorLog chunk k (see ``steps``)."""
        return range(k * self._bpc, min(self.n_blocks, (k + 1) * self._bpc))
