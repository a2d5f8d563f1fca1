"""The plan of one seed: its whole content, deterministic from the seed's identity.

``Plan(params)`` draws everything up front (numpy, vectorised) except the BehaviorLog
events, which ``log_block`` draws per block of sessions. It is assembled from one part per
domain, each in its own module (what it sets and reads is in its docstring), planned in
this order because each step reads what the earlier ones drew:

1. ``courses``: courses and lessons (popularity, publication);
2. ``users``: users (roles, names, activity windows and weights);
3. ``progress``: enrollments and UserProgress;
4. ``behavior``: sessions (the BehaviorLog events come per block, later);
5. ``gamification``: streaks, from the sessions;
6. ``social``: buddy groups, members, posts, relationships;
7. ``gamification``: achievements and points, from all of the above.

The loader asks the plan for its ``steps`` (the committed units of the load), the rows of
the small tables (``base_tables``), UserProgress chunks (``progress_chunk``) and BehaviorLog
blocks (``log_chunk_blocks``, ``log_block``), and the row ``counts`` it must end with.
"""

from __future__ import annotations

import datetime as _dt

from ansible.module_utils.vedfin_seed.data import ACHIEVEMENTS
from ansible.module_utils.vedfin_seed.params import COUNT_KEYS
from ansible.module_utils.vedfin_seed.plan.behavior import LOG_COLUMNS, Behavior
from ansible.module_utils.vedfin_seed.plan.common import DAY_MS
from ansible.module_utils.vedfin_seed.plan.courses import Courses
from ansible.module_utils.vedfin_seed.plan.gamification import Gamification
from ansible.module_utils.vedfin_seed.plan.progress import PROGRESS_COLUMNS, Progress
from ansible.module_utils.vedfin_seed.plan.social import Social
from ansible.module_utils.vedfin_seed.plan.users import Users


class Plan(Courses, Users, Progress, Behavior, Gamification, Social):
    """Deterministic content of one seed (BehaviorLog rows are generated per block)."""

    PROGRESS_COLUMNS = PROGRESS_COLUMNS
    LOG_COLUMNS = LOG_COLUMNS

    def __init__(self, params):
        self.params = params
        seed = self.seed = params["seed"]
        U, C, E, D = (params[k] for k in COUNT_KEYS)
        anchor = _dt.date.fromisoformat(params["anchor_date"])
        self.anchor_ms = int((anchor - _dt.date(1970, 1, 1)).days) * DAY_MS
        self.ws_ms = self.anchor_ms - D * DAY_MS  # start of the activity window
        self._plan_courses(seed, C)
        self._plan_users(seed, U)
        self._plan_enrollments(seed)
        self._plan_sessions(seed, E)
        self._plan_streaks(seed)
        self._plan_social(seed)
        self._plan_achievements(seed)

    def counts(self):
        """The row count of each app table after the load."""
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

    def steps(self, chunk_rows):
        """The steps of the load: ``base`` (the small tables), ``UserProgress:k`` and
        ``BehaviorLog:k`` (about ``chunk_rows`` rows each)."""
        steps = ["base"]
        n = self.pr_user.size
        steps += [f"UserProgress:{k}" for k in range(-(-n // chunk_rows))]
        per_block = max(1.0, self.params["behavior_logs"] / max(1, self.n_blocks))
        bpc = max(1, int(chunk_rows // per_block))
        steps += [f"BehaviorLog:{k}" for k in range(-(-self.n_blocks // bpc))]
        self._bpc = bpc
        self._chunk_rows = chunk_rows
        return steps

    def base_tables(self):
        """Yield (table, column list, COPY bytes) for the small tables, parents first."""
        for table in (
            self.user_table,
            self.course_table,
            self.lesson_table,
            self.achievement_table,
            self.group_table,
            self.streak_table,
            self.user_achievement_table,
            self.member_table,
            self.post_table,
            self.relationship_table,
        ):
            yield table()
