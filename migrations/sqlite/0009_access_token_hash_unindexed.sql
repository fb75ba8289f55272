-- An access token presented to Onboard is found by the `jti` it carries, then checked against
-- the hash stored with it (in constant time). Nothing looks a token up by its hash any more,
-- so the unique index of those hashes goes: its random keys cost a rewritten index page per
-- token issued.
--
-- The table is rebuilt as in 0008 (SQLite cannot drop a column's unique constraint), on the
-- migration connection with foreign keys off; the references are checked afterwards.
create table access_token_rebuilt (
    jti text primary key,
    token_hash text not null,
    tenant_id text not null,
    workspace_id text not null,
    client_id text not null references client (client_id) on delete cascade,
    scope text not null,
    certificate_thumbprint text,
    issued_at text not null,
    expires_at bigint not null,
    revoked_at text
);
insert into access_token_rebuilt (jti, token_hash, tenant_id, workspace_id, client_id, scope, certificate_thumbprint,
    issued_at, expires_at, revoked_at)
select jti, token_hash, tenant_id, workspace_id, client_id, scope, certificate_thumbprint,
    issued_at, expires_at, revoked_at
from access_token;
drop table access_token;
alter table access_token_rebuilt rename to access_token;
create index access_token_by_client on access_token (client_id, issued_at);
