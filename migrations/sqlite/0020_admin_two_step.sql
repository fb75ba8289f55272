-- Administrators' two-step sign-in: the secret their authenticator app shares (sealed under the
-- key encryption key, as private keys are, bound to the administrator) and the last time step
-- a code was accepted in, so that no code is accepted twice, and the wrong codes given since
-- the last right one (past a limit, two-step sign-in is blocked until an operator resets it).
-- A row exists while two-step sign-in is on.
create table admin_two_step (
    administrator_id text primary key references admin_user (id) on delete cascade,
    secret_sealed text not null,
    enabled_at integer not null,
    last_used_step integer not null,
    failed_codes integer not null default 0
);
