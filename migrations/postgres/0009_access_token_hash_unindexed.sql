-- An access token presented to Onboard is found by the `jti` it carries, then checked against
-- the hash stored with it (in constant time). Nothing looks a token up by its hash any more,
-- so the unique index of those hashes goes: its random keys cost a rewritten index page per
-- token issued.
alter table access_token drop constraint access_token_token_hash_key;
