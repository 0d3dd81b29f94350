-- Delivery reports and auto-replies are deleted once Newsletter:Inbox:ReportRetention has passed (Inbox/ReportRetentionJob);
-- the bounces a report recorded stay, without it, and keep counting towards stopping the reader.
alter table bounces alter column inbound_message_id drop not null;
alter table bounces drop constraint bounces_inbound_message_id_fkey;
alter table bounces add constraint bounces_inbound_message_id_fkey
    foreign key (inbound_message_id) references inbound_messages (id) on delete set null;
-- Each deleted report looks up the bounces that name it.
create index bounces_inbound_message on bounces (inbound_message_id);
create index inbound_messages_answered_at on inbound_messages (processed_at) where status in ('report', 'auto_reply');
