-- Reference copy of the V-EdFinance application schema (owned by the app: NestJS + Prisma).
-- Names are the application's: quoted PascalCase tables, quoted camelCase columns, text UUID
-- ids, PostgreSQL enums. Ops-owned additions never go here: they live in sql/migrations/.
-- Source of truth for the shape: ../shared/DOMAIN.md. Timestamps are timestamptz(3) so that
-- reporting in a time zone is well defined.

-- Enums -----------------------------------------------------------------------------------
CREATE TYPE "Role" AS ENUM ('STUDENT', 'TEACHER', 'ADMIN');
CREATE TYPE "Level" AS ENUM ('BEGINNER', 'INTERMEDIATE', 'EXPERT');
CREATE TYPE "LessonType" AS ENUM ('VIDEO', 'READING', 'QUIZ', 'INTERACTIVE');
CREATE TYPE "ProgressStatus" AS ENUM ('STARTED', 'IN_PROGRESS', 'COMPLETED');
CREATE TYPE "BuddyGroupType" AS ENUM ('LEARNING', 'SAVING', 'INVESTING');
CREATE TYPE "BuddyRole" AS ENUM ('LEADER', 'MEMBER');
CREATE TYPE "PostType" AS ENUM ('ACHIEVEMENT', 'MILESTONE', 'NUDGE', 'DISCUSSION');
CREATE TYPE "RelationStatus" AS ENUM ('FOLLOWING', 'FRIEND_REQUESTED', 'FRIENDS', 'BLOCKED');

-- Learning domain -------------------------------------------------------------------------
CREATE TABLE "User" (
    "id"              text PRIMARY KEY,
    "email"           text NOT NULL,
    "passwordHash"    text NOT NULL,
    "name"            jsonb,
    "role"            "Role" NOT NULL DEFAULT 'STUDENT',
    "points"          integer NOT NULL DEFAULT 0,
    "preferredLocale" text NOT NULL DEFAULT 'vi',
    "createdAt"       timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"       timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "User_email_key" ON "User" ("email");
CREATE INDEX "User_role_idx" ON "User" ("role");
CREATE INDEX "User_createdAt_idx" ON "User" ("createdAt");
CREATE INDEX "User_points_idx" ON "User" ("points");
CREATE INDEX "User_student_points_idx" ON "User" ("points" DESC) WHERE "role" = 'STUDENT';

CREATE TABLE "Course" (
    "id"           text PRIMARY KEY,
    "slug"         text NOT NULL,
    "title"        jsonb NOT NULL,
    "description"  jsonb,
    "thumbnailKey" text,
    "price"        integer NOT NULL DEFAULT 0,
    "level"        "Level" NOT NULL DEFAULT 'BEGINNER',
    "published"    boolean NOT NULL DEFAULT false,
    "createdAt"    timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"    timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Course_slug_key" ON "Course" ("slug");
CREATE INDEX "Course_published_level_idx" ON "Course" ("published", "level");

CREATE TABLE "Lesson" (
    "id"        text PRIMARY KEY,
    "courseId"  text NOT NULL REFERENCES "Course" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "order"     integer NOT NULL,
    "title"     jsonb NOT NULL,
    "content"   jsonb,
    "type"      "LessonType" NOT NULL DEFAULT 'VIDEO',
    "duration"  integer,
    "published" boolean NOT NULL DEFAULT false,
    "createdAt" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Lesson_courseId_order_key" ON "Lesson" ("courseId", "order");

CREATE TABLE "UserProgress" (
    "id"                 text PRIMARY KEY,
    "userId"             text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "lessonId"           text NOT NULL REFERENCES "Lesson" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "status"             "ProgressStatus" NOT NULL DEFAULT 'STARTED',
    "durationSpent"      integer NOT NULL DEFAULT 0,
    "progressPercentage" double precision NOT NULL DEFAULT 0,
    "completedAt"        timestamptz(3),
    "createdAt"          timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"          timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "UserProgress_userId_lessonId_key" ON "UserProgress" ("userId", "lessonId");
CREATE INDEX "UserProgress_userId_status_idx" ON "UserProgress" ("userId", "status");
CREATE INDEX "UserProgress_lessonId_status_idx" ON "UserProgress" ("lessonId", "status");
CREATE INDEX "UserProgress_userId_createdAt_idx" ON "UserProgress" ("userId", "createdAt");
CREATE INDEX "UserProgress_completedAt_idx" ON "UserProgress" ("completedAt");

-- Analytics domain ------------------------------------------------------------------------
CREATE TABLE "BehaviorLog" (
    "id"             text PRIMARY KEY,
    "userId"         text REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    "sessionId"      text NOT NULL,
    "path"           text NOT NULL,
    "eventType"      text NOT NULL,
    "actionCategory" text NOT NULL DEFAULT 'GENERAL',
    "duration"       integer,
    "deviceInfo"     jsonb,
    "payload"        jsonb,
    "timestamp"      timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX "idx_behavior_log_user_timestamp" ON "BehaviorLog" ("userId", "timestamp");
CREATE INDEX "BehaviorLog_sessionId_idx" ON "BehaviorLog" ("sessionId");
CREATE INDEX "BehaviorLog_sessionId_eventType_idx" ON "BehaviorLog" ("sessionId", "eventType");
CREATE INDEX "BehaviorLog_actionCategory_idx" ON "BehaviorLog" ("actionCategory");
CREATE INDEX "BehaviorLog_eventType_timestamp_idx" ON "BehaviorLog" ("eventType", "timestamp");
CREATE INDEX "BehaviorLog_eventType_userId_idx" ON "BehaviorLog" ("eventType", "userId");

-- Gamification domain ---------------------------------------------------------------------
CREATE TABLE "UserStreak" (
    "id"               text PRIMARY KEY,
    "userId"           text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "currentStreak"    integer NOT NULL DEFAULT 0,
    "longestStreak"    integer NOT NULL DEFAULT 0,
    "lastActivityDate" timestamptz(3),
    "streakFrozen"     boolean NOT NULL DEFAULT false,
    "freezesRemaining" integer NOT NULL DEFAULT 0,
    "createdAt"        timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"        timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "UserStreak_userId_key" ON "UserStreak" ("userId");

CREATE TABLE "Achievement" (
    "id"        text PRIMARY KEY,
    "key"       text NOT NULL,
    "name"      jsonb NOT NULL,
    "criteria"  jsonb,
    "points"    integer NOT NULL DEFAULT 0,
    "tier"      text,
    "category"  text,
    "createdAt" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Achievement_key_key" ON "Achievement" ("key");

CREATE TABLE "UserAchievement" (
    "id"        text PRIMARY KEY,
    "userId"    text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "type"      text NOT NULL,
    "name"      jsonb NOT NULL,
    "iconKey"   text,
    "awardedAt" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "UserAchievement_userId_idx" ON "UserAchievement" ("userId");

-- Social domain ---------------------------------------------------------------------------
CREATE TABLE "BuddyGroup" (
    "id"          text PRIMARY KEY,
    "name"        text NOT NULL,
    "type"        "BuddyGroupType" NOT NULL DEFAULT 'LEARNING',
    "totalPoints" integer NOT NULL DEFAULT 0,
    "streak"      integer NOT NULL DEFAULT 0,
    "createdAt"   timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"   timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "BuddyMember" (
    "id"       text PRIMARY KEY,
    "groupId"  text NOT NULL REFERENCES "BuddyGroup" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "userId"   text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "role"     "BuddyRole" NOT NULL DEFAULT 'MEMBER',
    "joinedAt" timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "BuddyMember_groupId_userId_key" ON "BuddyMember" ("groupId", "userId");
CREATE INDEX "BuddyMember_userId_idx" ON "BuddyMember" ("userId");

CREATE TABLE "SocialPost" (
    "id"         text PRIMARY KEY,
    "userId"     text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "groupId"    text REFERENCES "BuddyGroup" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    "type"       "PostType" NOT NULL DEFAULT 'DISCUSSION',
    "content"    jsonb,
    "likesCount" integer NOT NULL DEFAULT 0,
    "createdAt"  timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"  timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "SocialPost_userId_idx" ON "SocialPost" ("userId");
CREATE INDEX "SocialPost_groupId_idx" ON "SocialPost" ("groupId");

CREATE TABLE "UserRelationship" (
    "id"         text PRIMARY KEY,
    "followerId" text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "followedId" text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "status"     "RelationStatus" NOT NULL DEFAULT 'FOLLOWING',
    "createdAt"  timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"  timestamptz(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "UserRelationship_followerId_followedId_key"
    ON "UserRelationship" ("followerId", "followedId");
CREATE INDEX "UserRelationship_followedId_idx" ON "UserRelationship" ("followedId");
