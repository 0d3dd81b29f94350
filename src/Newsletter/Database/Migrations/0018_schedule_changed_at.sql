-- When a reader last changed how often or when digests come (frequency, weekday, time zone): a weekly reader's first
-- week after a change starts there, so it neither waits for a week nor repeats the days read daily.
alter table subscribers add column schedule_changed_at timestamptz;
