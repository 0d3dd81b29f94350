-- One row per confirmation (or "already subscribed") mail the subscribe form asked for. It is both the ledger the
-- mail job checks before sending and the per-address rate limit: the form inserts a row only while fewer than the
-- configured number were asked for in the last hour, whichever process serves the request.
create table confirmation_mails (
    id            bigint generated always as identity primary key,
    subscriber_id bigint      not null references subscribers (id) on delete cascade,
    status        text        not null default 'pending' check (status in ('pending', 'sent', 'failed', 'skipped')),
    token_hash    bytea       references subscriber_tokens (token_hash) on delete set null,
    reply         text,
    created_at    timestamptz not null,
    finished_at   timestamptz
);
create index confirmation_mails_recent on confirmation_mails (subscriber_id, created_at);
