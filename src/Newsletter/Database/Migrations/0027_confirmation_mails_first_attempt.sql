-- When the job first tried to send the mail: a deferred mail is given up on a while after that, not after it was asked
-- for, so a mail whose first attempt comes late (the worker was down) still gets its retries.
alter table confirmation_mails add column first_attempt_at timestamptz;
