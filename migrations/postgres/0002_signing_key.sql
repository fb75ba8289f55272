-- Each workspace's own signing keys (for the tokens it issues). The private key is PKCS#8 PEM
-- and never leaves the server; the public JWK is what .well-known/jwks.json publishes.
create table signing_key (
    kid text primary key,
    tenant_id text not null,
    workspace_id text not null,
    algorithm text not null check (algorithm in ('PS256', 'ES256')),
    private_key_pem text not null,
    public_jwk jsonb not null,
    created_at timestamptz not null,
    retired_at timestamptz,
    foreign key (tenant_id, workspace_id) references workspace (tenant_id, id) on delete cascade
);
create index signing_key_by_workspace on signing_key (tenant_id, workspace_id, created_at);
