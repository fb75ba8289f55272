-- A registration access token now names its client (`<client_id>~<secret>`): a token presented
-- for another client is checked against that client's hash, found by its key. Nothing looks a
-- client up by token hash any more, so the unique index of those hashes goes: its random keys
-- cost a rewritten index page per registration.
alter table client drop constraint client_registration_access_token_hash_key;
