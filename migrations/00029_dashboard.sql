-- +goose Up
-- The dashboard's counters (domain/dashboard). A durable subscriber of the areas' events adds
-- each change to the day it happened, so a period (7, 30, 90 days, all) is a sum over days and
-- a widget's weekly delta the sum of the last seven; `p2p stats rebuild` recounts them from the
-- areas' tables. scope is 'u' (a user) or 'o' (an organization).
CREATE TABLE dashboard_counts (
    scope    char(1) NOT NULL CHECK (scope IN ('u', 'o')),
    scope_id uuid    NOT NULL,
    metric   text    NOT NULL,
    day      date    NOT NULL,
    n        bigint  NOT NULL,
    PRIMARY KEY (scope, scope_id, metric, day)
);

-- Who contributed (posted a topic or reply, submitted a use case) on which day, per
-- organization: an organization's active members in a period.
CREATE TABLE dashboard_active_days (
    organization_id uuid NOT NULL,
    day             date NOT NULL,
    user_id         uuid NOT NULL,
    actions         int  NOT NULL,
    PRIMARY KEY (organization_id, day, user_id)
);

-- Contributions per user per month: "this month"'s activity level is the share of the month's
-- active users with fewer, read from the (month, actions) index.
CREATE TABLE dashboard_month_actions (
    month   date NOT NULL,
    user_id uuid NOT NULL,
    actions int  NOT NULL,
    PRIMARY KEY (month, user_id)
);
CREATE INDEX dashboard_month_actions_rank ON dashboard_month_actions (month, actions);

-- Events a rebuild already counted but whose place in the log is after the cursor it set (they
-- committed before its snapshot, from transactions that started before its snapshot's
-- horizon): the subscriber skips them once, so a rebuild during activity counts each change
-- once.
CREATE TABLE dashboard_counted (
    event_id bigint PRIMARY KEY
);

-- +goose Down
DROP TABLE dashboard_counted;
DROP TABLE dashboard_month_actions;
DROP TABLE dashboard_active_days;
DROP TABLE dashboard_counts;
