-- Digest links are signed instead of stored (Subscribers/DigestLinkKeys.cs): three token rows per digest were the
-- largest write of a send (tests/bench.sh fan-out with BENCH_PG_DIAGNOSTICS=1) and 300,000 rows a day for 100,000
-- subscribers, kept for ever. The signing key is made here, once per database, from PostgreSQL's strong random
-- source (gen_random_uuid: 122 random bits each, 244 together). Links minted earlier keep working: their hashes stay
-- in subscriber_tokens.
-- Rotation: insert a key with a higher id and restart; new links use it. Deleting a key (and restarting) kills every
-- link signed with it.
create table digest_link_keys (
    id         smallint    primary key check (id between 1 and 255),
    secret     bytea       not null check (length(secret) = 32),
    created_at timestamptz not null default now()
);
insert into digest_link_keys (id, secret)
values (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
