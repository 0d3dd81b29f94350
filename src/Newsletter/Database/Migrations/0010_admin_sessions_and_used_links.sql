-- Admin sign-ins, so a session can end before its cookie does: at sign-out (every session of the one admin), when
-- the password changes (credential_stamp, a slow hash of the configured password, no longer matches), and at
-- expires_at, however often it is used.
create table admin_sessions (
    id               uuid        primary key,
    credential_stamp bytea       not null,
    created_at       timestamptz not null,
    expires_at       timestamptz not null,
    ended_at         timestamptz
);

-- A confirmation link works once: spending it sets used_at, and a later click gets "already used".
alter table subscriber_tokens add column used_at timestamptz;
