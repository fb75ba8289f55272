-- Browsers an administrator has signed in from, by the SHA-256 of the token in their
-- `onboard_device` cookie: a sign-in from one is counted against the device, not the e-mail
-- address, so an outsider who keeps an address locked with wrong passwords does not lock its
-- administrator out of their own browser. Trusted for 30 days after its last successful
-- sign-in (last_used_at, epoch seconds); a new password forgets an address's devices.
create table trusted_device (
    token_hash text primary key,
    email text not null,
    failures integer not null default 0,
    locked_until bigint,
    last_used_at bigint not null
);
create index trusted_device_by_email on trusted_device (email);
create index trusted_device_by_last_use on trusted_device (last_used_at);
