-- Delivery status notifications (RFC 3464) and auto-replies arrive in the mailbox like listings and are stored with
-- their verdict like them: 'report' (a delivery report, matched to a delivery in bounces when it can be) or
-- 'auto_reply' (an out-of-office or other automatic reply, ignored).
alter table inbound_messages drop constraint inbound_messages_status_check;
alter table inbound_messages add constraint inbound_messages_status_check
    check (status in ('received', 'ingested', 'duplicate', 'quarantined', 'report', 'auto_reply'));

-- One row per delivery report matched to one of our deliveries (Bounces/BounceStore.cs). Permanent failures count
-- towards making the subscriber 'bounced' until cleared_at is set: when they did, or when an admin re-activated them.
create table bounces (
    id                 bigint generated always as identity primary key,
    inbound_message_id bigint      not null references inbound_messages (id),
    delivery_id        bigint      not null references deliveries (id) on delete cascade,
    subscriber_id      bigint      not null references subscribers (id) on delete cascade,
    issue_id           bigint      not null references issues (id) on delete cascade,
    kind               text        not null check (kind in ('permanent', 'transient')),
    status             text        not null,            -- RFC 3463 enhanced status code, e.g. 5.1.1
    recipient          text,                            -- the report's Original- or Final-Recipient
    diagnostic         text,                            -- the receiving server's words (Diagnostic-Code)
    matched_by         text        not null check (matched_by in ('return_path', 'message_id')),
    received_at        timestamptz not null,
    cleared_at         timestamptz
);
create index bounces_subscriber on bounces (subscriber_id, received_at desc);
create index bounces_issue on bounces (issue_id, received_at desc);
create index bounces_delivery on bounces (delivery_id);
