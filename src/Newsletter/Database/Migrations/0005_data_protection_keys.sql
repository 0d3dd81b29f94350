-- ASP.NET Core Data Protection keys (admin sign-in cookies, antiforgery tokens), shared by every web process and
-- kept across restarts. Personal links do not depend on them.
create table data_protection_keys (
    id            bigint generated always as identity primary key,
    friendly_name text,
    xml           text        not null,
    created_at    timestamptz not null default now()
);
