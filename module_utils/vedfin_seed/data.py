"""The fixed vocabulary of the seeder: pure data, no code that draws from it.

Vietnamese-first ``{vi, en, zh}`` names (family names weighted by how common they are), the
course catalog's topics and qualifiers (with prefix pairs such as
``investing`` / ``investing-advanced`` on purpose), lesson topics, the achievements, social
post texts, and the BehaviorLog vocabulary (devices, paths, referrers, event kinds and the
weights of each kind per visitor class). The plan (``vedfin_seed.plan``) draws from it.
"""

from __future__ import annotations

# Person names: (vi, en (ASCII), zh[, weight of the family name]).
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
# Weights of the event kinds (KINDS indexes) in a session: of a learner (a user with an
# enrollment), of a browser (a signed-in user without one), of an anonymous visitor.
LEARNER_P = {0: 26, 1: 18, 2: 9, 3: 5, 4: 7, 5: 5, 6: 6, 7: 6, 8: 6, 9: 4, 11: 4, 12: 2, 13: 2}
BROWSER_P = {7: 25, 8: 10, 9: 25, 10: 15, 11: 8, 12: 8, 13: 5, 17: 4}
ANON_P = {14: 20, 10: 25, 9: 30, 15: 10, 16: 10, 17: 5}
# The numeric field of a lesson event's payload (KINDS[i][3]), by code.
METRICS = [None, "scroll", "position", "score"]


# SocialPost texts (vi, en, zh).
POST_TEXTS = [
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
