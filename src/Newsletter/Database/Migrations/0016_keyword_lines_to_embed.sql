-- Keyword lines saved since the embedding job last looked: every insert or change of a reader's line, by any path
-- (sign-up, manage page, admin, CSV import by COPY), so each is read for meaning before the next fan-out needs it.
create table keyword_lines_to_embed (
    interests text primary key
);

create function keyword_lines_inserted() returns trigger language plpgsql as $$
begin
    insert into keyword_lines_to_embed (interests)
    select distinct interests from saved where interests <> ''
    on conflict do nothing;
    return null;
end
$$;

create function keyword_lines_changed() returns trigger language plpgsql as $$
begin
    insert into keyword_lines_to_embed (interests)
    select distinct n.interests from saved n join previous o on o.id = n.id
    where n.interests <> '' and n.interests is distinct from o.interests
    on conflict do nothing;
    return null;
end
$$;

-- Per statement, so an import of 100,000 readers costs one insert, not 100,000.
create trigger subscribers_lines_inserted after insert on subscribers
    referencing new table as saved for each statement execute function keyword_lines_inserted();
create trigger subscribers_lines_changed after update on subscribers
    referencing old table as previous new table as saved for each statement execute function keyword_lines_changed();

-- The lines readers already have: those already read for meaning are dropped by the job's first run.
insert into keyword_lines_to_embed (interests)
select distinct interests from subscribers where interests <> '' and status in ('pending', 'active');
