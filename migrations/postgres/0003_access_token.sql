-- Access tokens issued by the token endpoint. The token itself is kept only as a SHA-256 hash;
-- revoking it, or deleting its client (the foreign key cascades), ends it at once.
create table access_token (
    jti text primary key,
    token_hash text not null unique,
    tenant_id text not null,
    workspace_id text not null,
    client_id text not null references client (client_id) on delete cascade,
    scope text not null,
    certificate_thumbprint text,
    issued_at timestamptz not null,
    expires_at bigint not null,
    revoked_at timestamptz
);
create index access_token_by_client on access_token (client_id, issued_at);
