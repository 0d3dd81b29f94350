-- Raw mail (about 275 KB a listing) is TOAST-compressed with lz4, cheaper than pglz at about the same size; stored rows
-- keep theirs, a server without lz4 keeps pglz.
do $$
begin
    alter table inbound_messages alter column raw set compression lz4;
exception
    when feature_not_supported or invalid_parameter_value then
        raise notice 'lz4 is not available on this server; inbound_messages.raw stays pglz-compressed';
end
$$;
