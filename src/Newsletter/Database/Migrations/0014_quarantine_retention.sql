-- Mail the sender policy refuses is stored as its headers and a prefix of its body (raw_is_prefix), and quarantined
-- mail is deleted once Newsletter:Inbox:QuarantineRetention has passed: a flood of mail cannot fill the disk.
alter table inbound_messages add column raw_is_prefix boolean not null default false;
create index inbound_messages_quarantined_at on inbound_messages (processed_at) where status = 'quarantined';
