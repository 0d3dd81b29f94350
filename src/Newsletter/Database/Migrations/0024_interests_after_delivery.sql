-- Which of a reader's digests were made with an earlier keyword line: when the line changes, the newest delivery id
-- then. A digest's web copy with an id up to it must not name the new line as the one its papers matched. By delivery
-- id, not by time, so the database's clock and the application's never need to agree; the newest of all deliveries (one
-- look at the primary key) serves as well as the reader's own newest and costs a bulk import nothing per row.
alter table subscribers add column interests_after_delivery bigint;

create function interests_after_delivery() returns trigger language plpgsql as $$
begin
    new.interests_after_delivery = (select max(id) from deliveries);
    return new;
end
$$;

-- Every path that changes a line (sign-up, manage page, admin, CSV import) goes through an update of the row.
create trigger subscribers_interests_after_delivery before update of interests on subscribers
    for each row when (old.interests is distinct from new.interests) execute function interests_after_delivery();
