-- Console sign-ins, one per signed-in session, so an administrator can see their sessions (the
-- browser, the address, when each was last used) and end any of them from their account page.
-- A session's own record (console_session) keeps only the sign-in's id: deleting the row here
-- signs that session out at its next request. `password_mark` is a hash of the argon2 hash the
-- administrator signed in with; a sign-in counts only while it is their password's. Times are
-- epoch seconds; last_seen_at is written at most once a minute. Sessions signed in before this
-- migration have no row: they are deleted, and their administrators sign in again.
delete from console_session;
create table console_sign_in (
    id text primary key,
    administrator_id text not null references admin_user (id) on delete cascade,
    password_mark text not null,
    signed_in_at bigint not null,
    last_seen_at bigint not null,
    address text,
    user_agent text not null
);
create index console_sign_in_by_administrator on console_sign_in (administrator_id, last_seen_at);
create index console_sign_in_by_sign_in_time on console_sign_in (signed_in_at);
