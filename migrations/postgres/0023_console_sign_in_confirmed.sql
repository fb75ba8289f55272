-- When the administrator of each console sign-in last proved their password: at the sign-in,
-- or when the console asked them to confirm it before a sensitive change (a workspace's
-- trust settings, its policies, clients and signing key). Epoch seconds. Sign-ins made before
-- this migration have 0: their next sensitive change asks for the password first.
alter table console_sign_in add column confirmed_at bigint not null default 0;
