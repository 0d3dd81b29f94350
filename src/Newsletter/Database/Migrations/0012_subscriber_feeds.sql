-- A reader's personal Atom feed: one secret address per subscriber at a time. Only the SHA-256 of its 128-bit token is
-- kept (like subscriber_tokens), so the address is shown once, when it is made; a new one replaces the old, and turning
-- the feed off deletes the row. Erasing the subscriber erases it.
create table subscriber_feeds (
    subscriber_id bigint      primary key references subscribers (id) on delete cascade,
    token_hash    bytea       not null unique,
    created_at    timestamptz not null
);
