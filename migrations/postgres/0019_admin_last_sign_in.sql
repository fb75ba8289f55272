-- When each administrator last signed in to the console, for the Administrators page. Null
-- until their first sign-in after this migration.
alter table admin_user add column last_signed_in_at timestamptz;
