"""Buddy groups and their members, social posts and follow relationships, and their rows
(BuddyGroup, BuddyMember, SocialPost, UserRelationship).

Active users form groups of about 30 (one leader each; ~40 % join one, some two), post in
proportion to their activity (half of a member's posts in their first group), and follow
active users in proportion to their weight.

Sets: ``G``, ``group_ids``, ``group_type``, ``group_name_idx``, ``m_group``, ``m_user``,
``m_role``, ``m_ids``, ``m_joined``, ``groups_of_user``; ``p_user``, ``p_ids``, ``p_type``,
``p_likes``, ``p_created``, ``p_group``, ``p_text``, ``posts_of_user``; ``r_follower``,
``r_followed``, ``r_ids``, ``r_status``, ``r_created``, ``followers``.
Reads: users (``U``, ``weight``, ``active_start``, ``active_end``); for the rows also
``points`` and ``current_streak`` (gamification).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from ansible.module_utils.vedfin_seed.data import GIVEN, POST_TEXTS
from ansible.module_utils.vedfin_seed.encoder import py_copy, ts_texts, uuid_mat, uuid_texts
from ansible.module_utils.vedfin_seed.plan.common import rng

GROUP_TYPES = ("LEARNING", "SAVING", "INVESTING")
GROUP_NAMES = ("Nhóm học", "Nhóm tiết kiệm", "Nhóm đầu tư")
MEMBER_ROLES = ("LEADER", "MEMBER")
POST_TYPES = ("ACHIEVEMENT", "MILESTONE", "NUDGE", "DISCUSSION")
RELATIONSHIP_STATUSES = ("FOLLOWING", "FRIEND_REQUESTED", "FRIENDS", "BLOCKED")

GROUP_COLUMNS = ["id", "name", "type", "totalPoints", "streak", "createdAt", "updatedAt"]
MEMBER_COLUMNS = ["id", "groupId", "userId", "role", "joinedAt"]
POST_COLUMNS = ["id", "userId", "groupId", "type", "content", "likesCount", "createdAt"]
RELATIONSHIP_COLUMNS = ["id", "followerId", "followedId", "status", "createdAt", "updatedAt"]


class Social:
    """The groups, posts and relationships part of ``Plan``."""

    def _plan_social(self, seed):
        r = rng(seed, "group")
        U = self.U
        active = np.nonzero(self.weight > 0)[0]
        if not active.size:
            active = np.arange(min(U, 1))
        G = max(1, active.size // 30)
        self.G = G
        self.group_ids = uuid_mat(r, G)
        self.group_type = r.choice(3, G, p=[0.5, 0.3, 0.2])
        self.group_name_idx = r.integers(0, len(GIVEN), G)
        leaders = r.choice(active, G, replace=active.size < G)
        joiners = active[r.random(active.size) < 0.4]
        extra = joiners[r.random(joiners.size) < 0.15]
        mu = np.concatenate([leaders, joiners, extra])
        mg = np.concatenate([np.arange(G), r.integers(0, G, joiners.size + extra.size)])
        mrole = np.concatenate(
            [np.zeros(G, dtype=np.int64), np.ones(joiners.size + extra.size, dtype=np.int64)]
        )
        key, idx = np.unique(mg.astype(np.int64) * U + mu, return_index=True)
        self.m_group, self.m_user, self.m_role = mg[idx], mu[idx], mrole[idx]
        self.m_ids = uuid_mat(r, idx.size)
        self.m_joined = self.active_start[self.m_user] + (
            r.random(idx.size) * 0.3 * (self.active_end[self.m_user] - self.active_start[self.m_user])
        ).astype(np.int64)
        self.groups_of_user = np.bincount(self.m_user, minlength=U)
        # posts
        prng = rng(seed, "post")
        npost = prng.poisson(np.minimum(self.weight, 5.0) * 0.5)
        pu = np.repeat(np.arange(U), npost)
        self.p_user = pu
        self.p_ids = uuid_mat(prng, pu.size)
        self.p_type = prng.choice(4, pu.size, p=[0.25, 0.15, 0.1, 0.5])
        self.p_likes = np.minimum(prng.pareto(1.5, pu.size) * 3, 5000).astype(np.int64)
        self.p_created = self.active_start[pu] + (
            prng.random(pu.size) * (self.active_end[pu] - self.active_start[pu])
        ).astype(np.int64)
        first_group = np.full(U, -1)
        first_group[self.m_user[::-1]] = self.m_group[::-1]
        in_group = (first_group[pu] >= 0) & (prng.random(pu.size) < 0.5)
        self.p_group = np.where(in_group, first_group[pu], -1)
        self.p_text = prng.integers(0, len(POST_TEXTS), pu.size)
        self.posts_of_user = np.bincount(pu, minlength=U)
        # relationships: followers pick popular (active) users
        rrng = rng(seed, "relation")
        nf = np.where(self.weight > 0, rrng.poisson(np.minimum(self.weight, 5.0) * 1.5), 0)
        fu = np.repeat(np.arange(U), nf)
        pw = self.weight / self.weight.sum() if self.weight.sum() > 0 else np.full(U, 1.0 / U)
        fd = rrng.choice(U, fu.size, p=pw)
        keep = fu != fd
        key = np.unique(fu[keep].astype(np.int64) * U + fd[keep])
        self.r_follower, self.r_followed = key // U, key % U
        self.r_ids = uuid_mat(rrng, key.size)
        self.r_status = rrng.choice(4, key.size, p=[0.6, 0.08, 0.3, 0.02])
        lo = np.maximum(self.active_start[self.r_follower], self.active_start[self.r_followed])
        hi = np.maximum(lo + 1, self.active_end[self.r_follower])
        self.r_created = lo + (rrng.random(key.size) * (hi - lo)).astype(np.int64)
        self.followers = np.bincount(self.r_followed, minlength=U)

    @cached_property
    def group_id_texts(self):
        return uuid_texts(self.group_ids)

    def group_table(self):
        gid = self.group_id_texts
        gpoints = np.bincount(self.m_group, weights=self.points[self.m_user], minlength=self.G).astype(
            np.int64
        )
        gstreak = np.full(self.G, 10**9)
        np.minimum.at(gstreak, self.m_group, self.current_streak[self.m_user])
        gstreak[gstreak == 10**9] = 0
        gcreated = np.full(self.G, self.anchor_ms)
        np.minimum.at(gcreated, self.m_group, self.m_joined)
        g_created = ts_texts(gcreated)
        rows = [
            (
                gid[g],
                f"{GROUP_NAMES[self.group_type[g]]} {GIVEN[self.group_name_idx[g]][0]} #{g + 1}",
                GROUP_TYPES[self.group_type[g]],
                int(gpoints[g]),
                int(gstreak[g]),
                g_created[g],
                g_created[g],
            )
            for g in range(self.G)
        ]
        return "BuddyGroup", GROUP_COLUMNS, py_copy(rows)

    def member_table(self):
        uid, gid = self.user_id_texts, self.group_id_texts
        m_joined = ts_texts(self.m_joined)
        rows = [
            (
                self.m_ids[i].tobytes().decode(),
                gid[self.m_group[i]],
                uid[self.m_user[i]],
                MEMBER_ROLES[self.m_role[i]],
                m_joined[i],
            )
            for i in range(self.m_user.size)
        ]
        return "BuddyMember", MEMBER_COLUMNS, py_copy(rows)

    def post_table(self):
        uid, gid = self.user_id_texts, self.group_id_texts
        p_created = ts_texts(self.p_created)
        rows = []
        for i in range(self.p_user.size):
            t = POST_TEXTS[self.p_text[i]]
            g = self.p_group[i]
            rows.append(
                (
                    self.p_ids[i].tobytes().decode(),
                    uid[self.p_user[i]],
                    gid[g] if g >= 0 else None,
                    POST_TYPES[self.p_type[i]],
                    {"vi": t[0], "en": t[1], "zh": t[2]},
                    int(self.p_likes[i]),
                    p_created[i],
                )
            )
        return "SocialPost", POST_COLUMNS, py_copy(rows)

    def relationship_table(self):
        uid = self.user_id_texts
        r_created = ts_texts(self.r_created)
        rows = [
            (
                self.r_ids[i].tobytes().decode(),
                uid[self.r_follower[i]],
                uid[self.r_followed[i]],
                RELATIONSHIP_STATUSES[self.r_status[i]],
                r_created[i],
                r_created[i],
            )
            for i in range(self.r_follower.size)
        ]
        return "UserRelationship", RELATIONSHIP_COLUMNS, py_copy(rows)
