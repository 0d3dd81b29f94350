-- Mail over Newsletter:Inbox:MaxMessageBytes is downloaded as its headers alone. Before such rows were marked a prefix,
-- they were kept as if whole: re-ingesting judged the headers ('no papers found') instead of asking for the whole
-- message. Stored bytes shorter than the message are a prefix, as the poller now marks them; a reason lost to such a
-- re-judging names the cap again.
update inbound_messages
set raw_is_prefix = true,
    reason = case
        when reason like 'message is % bytes, over Newsletter:Inbox:MaxMessageBytes%' then reason
        else 'message is ' || to_char(size_bytes, 'FM999,999,999,990')
             || ' bytes, over Newsletter:Inbox:MaxMessageBytes when it arrived, so only its headers were kept'
    end
where status = 'quarantined' and not raw_is_prefix and octet_length(raw) < size_bytes;
