-- Personal links carry a random 128-bit token; only its SHA-256 is stored. Each purpose has its own token, so a
-- forwarded "view in browser" link cannot unsubscribe anybody. Digest links are minted when the digest is sent.
create table subscriber_tokens (
    token_hash    bytea       primary key,
    subscriber_id bigint      not null references subscribers (id) on delete cascade,
    purpose       text        not null check (purpose in ('confirm', 'manage', 'unsubscribe', 'view')),
    delivery_id   bigint      references deliveries (id) on delete cascade,
    created_at    timestamptz not null,
    expires_at    timestamptz
);
create index subscriber_tokens_subscriber on subscriber_tokens (subscriber_id, purpose);
create index subscriber_tokens_delivery on subscriber_tokens (delivery_id) where delivery_id is not null;
