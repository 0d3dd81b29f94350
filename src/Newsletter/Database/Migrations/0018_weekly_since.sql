-- When a daily reader last turned weekly: their first week starts there, so it neither arrives at once nor repeats the
-- days they read daily.
alter table subscribers add column weekly_since timestamptz;
