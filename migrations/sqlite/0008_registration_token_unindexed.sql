-- A registration access token now names its client (`<client_id>~<secret>`): a token presented
-- for another client is checked against that client's hash, found by its key. Nothing looks a
-- client up by token hash any more, so the unique index of those hashes goes: its random keys
-- cost a rewritten index page per registration (about 20% of registration throughput).
--
-- SQLite cannot drop a column's unique constraint, so the table is rebuilt the way its manual
-- prescribes (https://www.sqlite.org/lang_altertable.html, "other kinds of table schema
-- changes"): the new table filled with every row as it was, the old one dropped and the new
-- one renamed, which `access_token`'s reference to `client` then names. Migrations run on a
-- connection with foreign keys off (`Store::migrate`), so dropping the old table cascades to no
-- access token; the references are checked once the migrations are done.
create table client_rebuilt (
    client_id text primary key,
    tenant_id text not null,
    workspace_id text not null,
    name text,
    dynamically_registered boolean not null,
    software_id text,
    org_id text,
    org_name text,
    token_endpoint_auth_method text not null,
    metadata text not null,
    software_statement text,
    client_secret_hash text,
    registration_access_token_hash text,
    created_at text not null,
    updated_at text not null,
    foreign key (tenant_id, workspace_id) references workspace (tenant_id, id) on delete cascade
);
insert into client_rebuilt (client_id, tenant_id, workspace_id, name, dynamically_registered, software_id, org_id,
    org_name, token_endpoint_auth_method, metadata, software_statement, client_secret_hash,
    registration_access_token_hash, created_at, updated_at)
select client_id, tenant_id, workspace_id, name, dynamically_registered, software_id, org_id,
    org_name, token_endpoint_auth_method, metadata, software_statement, client_secret_hash,
    registration_access_token_hash, created_at, updated_at
from client;
drop table client;
alter table client_rebuilt rename to client;
create index client_by_workspace on client (tenant_id, workspace_id, created_at);
