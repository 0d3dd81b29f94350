-- Where each written week ended (its due time, or when the reader turned daily): the reader's next week starts there,
-- whatever weekday or time zone they chose since, so no day is sent twice or skipped.
alter table weekly_digests add column ends_at timestamptz;
-- A week written before this knew no end; its latest issue is a safe one: nothing after it was in that digest.
update weekly_digests w set ends_at = (
    select max(i.created_at) from delivery_generations g join issues i on i.id = any(coalesce(g.issue_ids, array[g.issue_id]))
    where g.issue_id = w.issue_id and g.generation = w.generation);
alter table weekly_digests alter column ends_at set not null;
