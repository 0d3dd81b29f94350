-- Relevance: each paper's meaning, computed once; each keyword line's, once per distinct line; each reader's votes;
-- and what a digest showed beyond its keyword matches.
create table paper_embeddings (
    paper_id  bigint primary key references papers (id) on delete cascade,
    model     text   not null,
    vector    bytea  not null
);

create table interest_embeddings (
    interests text        primary key,
    model     text        not null,
    vector    bytea       not null,
    used_at   timestamptz not null
);

create table reader_votes (
    subscriber_id bigint      not null references subscribers (id) on delete cascade,
    paper_id      bigint      not null references papers (id) on delete cascade,
    vote          smallint    not null check (vote in (-1, 1)),
    delivery_id   bigint      references deliveries (id) on delete set null,
    voted_at      timestamptz not null,
    primary key (subscriber_id, paper_id)
);
create index reader_votes_delivery on reader_votes (delivery_id);

alter table subscribers add column suggestions smallint not null default 5 check (suggestions in (0, 3, 5, 10));

-- paper_ids stays what the mail shows, in its order; these say which of them are suggestions, and which keyword
-- matches the reader's votes moved to the web copy.
alter table deliveries add column suggested_ids bigint[] not null default '{}';
alter table deliveries add column hidden_ids bigint[] not null default '{}';
alter table deliveries add column reasons text[] not null default '{}';
