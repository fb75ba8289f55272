-- Recovery codes of an administrator's two-step sign-in: each stands in for a code from the
-- authenticator app once (a lost phone), and is stored as the SHA-256 of the code (80 random
-- bits each, so no slow hash is needed). They go with two-step sign-in when it is turned off.
create table admin_recovery_code (
    administrator_id text not null references admin_two_step (administrator_id) on delete cascade,
    code_hash text not null,
    primary key (administrator_id, code_hash)
);
