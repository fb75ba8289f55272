-- Console administrators. Passwords are argon2id hashes (PHC strings); repeated failed
-- sign-ins lock the account for a while (locked_until, epoch seconds).
create table admin_user (
    id text primary key,
    email text not null unique,
    password_hash text not null,
    failed_logins integer not null default 0,
    locked_until bigint,
    created_at text not null
);

-- Console sessions (tower-sessions records), shared by every instance.
create table console_session (
    id text primary key,
    data text not null,
    expires_at bigint not null
);
create index console_session_by_expiry on console_session (expires_at);
