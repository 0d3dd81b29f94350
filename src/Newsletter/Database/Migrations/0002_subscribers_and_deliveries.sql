create table subscribers (
    id            bigint generated always as identity primary key,
    email         text        not null,
    status        text        not null default 'pending'
                  check (status in ('pending', 'active', 'paused', 'unsubscribed', 'bounced')),
    interests     text        not null default '',
    format        text        not null default 'html' check (format in ('html', 'text')),
    status_reason text,
    created_at    timestamptz not null,
    confirmed_at  timestamptz,
    updated_at    timestamptz not null
);
create unique index subscribers_email on subscribers (lower(email));
create index subscribers_active on subscribers (id) where status = 'active';

-- Who asked for which round of an issue: the first fan-out is generation 1, every re-send adds one.
create table delivery_generations (
    issue_id      bigint      not null references issues (id) on delete cascade,
    generation    integer     not null,
    scope         text        not null,      -- 'issue', 'one', 'all', 'failed', 'new'
    subscriber_id bigint      references subscribers (id) on delete set null,  -- for scope 'one'
    requested_by  text        not null,
    requested_at  timestamptz not null,
    fanned_out_at timestamptz,
    primary key (issue_id, generation)
);

-- The delivery ledger is the source of truth: a row moves pending -> sending -> sent | deferred | failed,
-- and a job only sends rows it claimed. Hangfire is at-least-once; this table makes sending at-most-once
-- outside the window between the server's 250 and our commit.
create table deliveries (
    id              bigint generated always as identity primary key,
    issue_id        bigint      not null references issues (id) on delete cascade,
    subscriber_id   bigint      not null references subscribers (id) on delete cascade,
    generation      integer     not null,
    status          text        not null default 'pending'
                    check (status in ('pending', 'sending', 'sent', 'deferred', 'failed', 'skipped')),
    paper_ids       bigint[]    not null default '{}',
    score           real        not null default 0,
    attempts        integer     not null default 0,
    next_attempt_at timestamptz,
    claimed_by      text,
    claimed_at      timestamptz,
    smtp_reply      text,
    error           text,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    sent_at         timestamptz,
    unique (issue_id, subscriber_id, generation),
    foreign key (issue_id, generation) references delivery_generations (issue_id, generation)
);
create index deliveries_open on deliveries (status, next_attempt_at) where status in ('pending', 'sending', 'deferred');
create index deliveries_subscriber on deliveries (subscriber_id);
