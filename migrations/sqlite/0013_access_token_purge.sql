-- Access tokens are deleted once expired (the housekeeping task, in batches of the earliest
-- expiry first): their expiry is indexed for it. It grows with time, so each new token adds to
-- the index's last page rather than rewriting a random one.
create index access_token_by_expiry on access_token (expires_at);
-- When a client last got a token outlives the tokens themselves: the newest issue time among
-- a client's purged tokens is kept on its row (the console's "last token", and what decides
-- whether a client is abandoned).
alter table client add column purged_token_at text;
