-- A report counts once per delivery it names, whoever fetches it again: after retention deleted its inbound row, the
-- mailbox (a restored folder, a new UIDVALIDITY) can hand it over again. Its identity is the report's Message-ID, as
-- stored in inbound_messages (a digest of the raw bytes for one without).
alter table bounces add column report_message_id text;
update bounces b set report_message_id = m.message_id from inbound_messages m where m.id = b.inbound_message_id;
create unique index bounces_one_per_report on bounces (delivery_id, report_message_id);
