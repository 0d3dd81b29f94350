-- A listing is about 275 KB of raw mail. PostgreSQL's default TOAST compression (pglz) took about 6 of the 10 ms an
-- insert of one cost; lz4 takes a third of that and stores it about as small (tests/bench.sh ingestion). Rows already
-- stored keep their compression. A server built without lz4 keeps pglz: slower, never wrong.
do $$
begin
    alter table inbound_messages alter column raw set compression lz4;
exception
    when feature_not_supported or invalid_parameter_value then
        raise notice 'lz4 is not available on this server; inbound_messages.raw stays pglz-compressed';
end
$$;
