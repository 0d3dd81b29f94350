-- Reports are matched by the signed return path or by the digest's own signed unsubscribe link, no longer by the
-- guessable Message-ID; rows matched that way before stay as they are.
alter table bounces drop constraint bounces_matched_by_check;
alter table bounces add constraint bounces_matched_by_check check (matched_by in ('return_path', 'digest_link', 'message_id'));
