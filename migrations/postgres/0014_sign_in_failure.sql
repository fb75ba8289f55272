-- Failed console sign-ins are counted per e-mail address as typed (normalised), whether or not
-- an administrator has it: an address without an account is locked just as one with an account
-- is, so the lock says nothing about which addresses have accounts. A row is forgotten after a
-- successful sign-in, or (housekeeping) a day after its last attempt once no lock holds.
create table sign_in_failure (
    email text primary key,
    failures integer not null,
    locked_until bigint,
    last_attempt_at bigint not null
);
create index sign_in_failure_by_last_attempt on sign_in_failure (last_attempt_at);
insert into sign_in_failure (email, failures, locked_until, last_attempt_at)
select email, failed_logins, locked_until, extract(epoch from now())::bigint from admin_user
where failed_logins > 0 or locked_until is not null;
-- admin_user.failed_logins and locked_until stay, no longer written, so that instances of the
-- previous release sharing the database during a rolling upgrade keep signing administrators
-- in; a later release drops them.
