-- A reader can be sent two weeks named by the same date (their time zone or weekday moved so the hour came again that
-- day, or they turned daily after that day's digest). Keyed by reader and date, the second week only moved the first's
-- end and kept its generation, so a re-send of the second carried the first's papers. Each written week is now its own
-- row, keyed as its delivery row is.
alter table weekly_digests drop constraint weekly_digests_pkey;
-- The weeks written into another's row: each gets its own, with the end that row was moved to (the latest of them).
insert into weekly_digests (subscriber_id, week_of, issue_id, generation, ends_at)
select d.subscriber_id, d.week_of, d.issue_id, d.generation, w.ends_at
from deliveries d
join delivery_generations g on g.issue_id = d.issue_id and g.generation = d.generation and g.scope = 'weekly'
join weekly_digests w on w.subscriber_id = d.subscriber_id and w.week_of = d.week_of
where (w.issue_id, w.generation) <> (d.issue_id, d.generation);
alter table weekly_digests add primary key (subscriber_id, issue_id, generation);
