-- Reader choices: daily digests (as before) or weekly on a weekday (0 = Sunday .. 6 = Saturday) at
-- Newsletter:Weekly:Hour in the reader's time zone (an IANA name; null = the server's); and whether a paper the reader
-- was already sent is left out when it trends again.
alter table subscribers add column frequency text not null default 'daily' check (frequency in ('daily', 'weekly'));
alter table subscribers add column weekday smallint not null default 1 check (weekday between 0 and 6);
alter table subscribers add column time_zone text check (length(time_zone) <= 64);
alter table subscribers add column no_repeats boolean not null default true;
create index subscribers_weekly on subscribers (id) where status = 'active' and frequency = 'weekly';

-- A weekly generation gathers the papers of several issues and hangs off the latest of them: issue_ids lists them all
-- (null: only the generation's own issue). A re-send that reaches a weekly reader lists the union of what it needs.
alter table delivery_generations add column issue_ids bigint[];

-- The reader's local date a weekly digest was due (null for a daily digest): on the weekly row and on its re-sends.
alter table deliveries add column week_of date;

-- The arbiter of "once a week": the weekly run inserts one row per reader and week in the transaction that writes
-- their delivery row, so a second run, a restart or another worker finds the week done.
create table weekly_digests (
    subscriber_id bigint  not null references subscribers (id) on delete cascade,
    week_of       date    not null,
    issue_id      bigint  not null,
    generation    integer not null,
    primary key (subscriber_id, week_of),
    foreign key (issue_id, generation) references delivery_generations (issue_id, generation) on delete cascade
);

