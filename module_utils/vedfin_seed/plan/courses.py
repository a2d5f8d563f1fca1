"""Courses and lessons: the catalog, Zipf-like popularity, and the Course / Lesson rows.

Sets: ``C``, ``course_ids``, ``slugs``, ``course_names``, ``level``, ``price``,
``published``, ``n_lessons``, ``n_pub_lessons``, ``course_created``, ``popularity``; ``L``,
``lesson_off``, ``lesson_ids``, ``lesson_course``, ``lesson_order``, ``lesson_type``,
``lesson_duration``, ``lesson_published``, ``lesson_topic``, ``lesson_created``.
Reads: ``ws_ms`` (start of the activity window).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from ansible.module_utils.vedfin_seed.data import LESSON_TOPICS, QUALIFIERS, TOPICS
from ansible.module_utils.vedfin_seed.encoder import jdump, py_copy, ts_texts, uuid_mat, uuid_texts
from ansible.module_utils.vedfin_seed.plan.common import DAY_MS, rng

LEVELS = ("BEGINNER", "INTERMEDIATE", "EXPERT")
LESSON_TYPES = ("VIDEO", "READING", "QUIZ", "INTERACTIVE")
PRICES = (0, 0, 99_000, 149_000, 199_000, 299_000, 499_000)

COURSE_COLUMNS = [
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
]
LESSON_COLUMNS = [
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
]


def course_catalog(count):
    """``count`` (slug, vi, en, zh, level or None) entries: the topics, then topic x
    qualifier, then numbered parts of those."""
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


class Courses:
    """The courses and lessons part of ``Plan``."""

    def _plan_courses(self, seed, C):
        r = rng(seed, "course")
        cat = course_catalog(C)
        self.C = C
        self.course_ids = uuid_mat(r, C)
        self.slugs = [c[0] for c in cat]
        self.course_names = [(c[1], c[2], c[3]) for c in cat]
        lv = r.integers(0, 3, C)
        self.level = np.array([LEVELS.index(c[4]) if c[4] else lv[i] for i, c in enumerate(cat)])
        self.price = np.array(PRICES)[r.integers(0, len(PRICES), C)]
        self.published = r.random(C) < 0.9
        self.published[:4] = True
        self.n_lessons = r.integers(8, 16, C)
        draft_last = r.random(C) < 0.1
        self.n_pub_lessons = self.n_lessons - draft_last
        self.course_created = self.ws_ms - r.integers(30 * DAY_MS, 400 * DAY_MS, C)
        # Zipf-like popularity over a random ranking of the courses.
        rank = r.permutation(C)
        pop = 1.0 / (rank + 1.0) ** 1.1
        pop[~self.published] = 0.0
        self.popularity = pop / pop.sum()
        # lessons
        lrng = rng(seed, "lesson")
        self.lesson_off = np.concatenate([[0], np.cumsum(self.n_lessons)])
        self.L = int(self.lesson_off[-1])
        self.lesson_ids = uuid_mat(lrng, self.L)
        self.lesson_course = np.repeat(np.arange(C), self.n_lessons)
        self.lesson_order = np.arange(self.L) - self.lesson_off[self.lesson_course] + 1
        self.lesson_type = lrng.choice(4, self.L, p=[0.5, 0.25, 0.15, 0.1])
        self.lesson_duration = lrng.integers(5, 31, self.L) * 60
        self.lesson_published = self.lesson_order <= self.n_pub_lessons[self.lesson_course]
        self.lesson_topic = lrng.integers(0, len(LESSON_TOPICS), self.L)
        self.lesson_created = self.course_created[self.lesson_course] + lrng.integers(0, 20 * DAY_MS, self.L)

    @cached_property
    def course_id_texts(self):
        return uuid_texts(self.course_ids)

    def course_table(self):
        cid = self.course_id_texts
        c_created = ts_texts(self.course_created)
        c_updated = ts_texts(self.course_created + 20 * DAY_MS)
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
        return "Course", COURSE_COLUMNS, py_copy(rows)

    def lesson_table(self):
        cid = self.course_id_texts
        l_created = ts_texts(self.lesson_created)
        l_updated = ts_texts(self.lesson_created + DAY_MS)
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
            # a JSON string (the column is jsonb; py_copy writes str as is)
            video_key = jdump(f"videos/{self.slugs[c]}/{n}.mp4") if ltype == "VIDEO" else None
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
        return "Lesson", LESSON_COLUMNS, py_copy(rows)
