-- Inbound mail is stored raw before anything else happens to it, so a crash or a parser bug loses nothing.
create table inbound_messages (
    id            bigint generated always as identity primary key,
    message_id    text        not null unique,          -- without angle brackets; synthesised from the hash when missing
    sha256        bytea       not null unique,
    source        text        not null,                 -- 'imap' or 'drop' or 'cli'
    folder        text,
    uid_validity  bigint,
    uid           bigint,
    from_address  text,
    subject       text,
    size_bytes    integer     not null,
    raw           bytea       not null,
    status        text        not null default 'received'
                  check (status in ('received', 'ingested', 'duplicate', 'quarantined')),
    reason        text,
    received_at   timestamptz not null,
    processed_at  timestamptz
);
create index inbound_messages_status on inbound_messages (status, received_at desc);

-- Where the poller stands in each IMAP folder. A new UIDVALIDITY means the UIDs mean nothing any more: resync.
create table mailbox_state (
    folder        text        primary key,
    uid_validity  bigint      not null,
    last_uid      bigint      not null default 0,
    polled_at     timestamptz not null
);

create table issues (
    id                  bigint generated always as identity primary key,
    issue_date          date,
    subject             text        not null,
    inbound_message_id  bigint      not null unique references inbound_messages (id),
    paper_count         integer     not null,
    created_at          timestamptz not null
);
-- One listing per day: a forwarded copy of a day already ingested is a duplicate, not a second issue.
create unique index issues_issue_date on issues (issue_date) where issue_date is not null;

-- A paper is keyed by its arXiv id when the mail carries one, else by its normalised title,
-- so a paper trending on several days is one paper in several issues.
create table papers (
    id            bigint generated always as identity primary key,
    paper_key     text        not null unique,
    arxiv_id      text,
    title         text        not null,
    abstract      text        not null,
    links         text[]      not null default '{}',
    first_seen_at timestamptz not null
);

create table issue_papers (
    issue_id  bigint  not null references issues (id) on delete cascade,
    paper_id  bigint  not null references papers (id),
    position  integer not null,
    primary key (issue_id, paper_id),
    unique (issue_id, position)
);
create index issue_papers_paper on issue_papers (paper_id);
