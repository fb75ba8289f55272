-- Onboard's schema, PostgreSQL flavour. migrations/sqlite holds the same logical schema.

-- Tenants hold workspaces; `default` is created on first start.
create table tenant (
    id text primary key,
    name text not null,
    created_at timestamptz not null
);

-- A workspace is one authorization server. `settings` and `dcr_settings` are JSON documents the
-- application validates before writing (app/src/domain/workspace.rs, dcr.rs).
create table workspace (
    tenant_id text not null references tenant (id) on delete cascade,
    id text not null,
    name text not null,
    profile text not null check (profile in ('openbanking_uk', 'generic')),
    settings jsonb not null,
    dcr_settings jsonb not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    primary key (tenant_id, id)
);

-- OAuth clients. `metadata` is the registration as returned to the client, without secrets.
-- Secrets and registration access tokens are stored only as SHA-256 hashes.
create table client (
    client_id text primary key,
    tenant_id text not null,
    workspace_id text not null,
    name text,
    dynamically_registered boolean not null,
    software_id text,
    org_id text,
    org_name text,
    token_endpoint_auth_method text not null,
    metadata jsonb not null,
    software_statement text,
    client_secret_hash text,
    registration_access_token_hash text unique,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    foreign key (tenant_id, workspace_id) references workspace (tenant_id, id) on delete cascade
);
create index client_by_workspace on client (tenant_id, workspace_id, created_at);

-- Registration request `jti`s already used, kept until the request would have expired
-- (epoch seconds), so a replay is refused by the primary key on every instance.
create table replay_guard (
    tenant_id text not null,
    workspace_id text not null,
    issuer text not null,
    jti text not null,
    expires_at bigint not null,
    primary key (tenant_id, workspace_id, issuer, jti)
);
create index replay_guard_by_expiry on replay_guard (expires_at);

-- Every registration attempt and client change. Never holds secrets or tokens.
create table audit_event (
    id bigint generated always as identity primary key,
    tenant_id text not null,
    workspace_id text not null,
    event_type text not null,
    outcome text not null check (outcome in ('success', 'failure')),
    client_id text,
    error text,
    error_description text,
    software_id text,
    org_id text,
    client_cert_subject text,
    remote_addr text,
    created_at timestamptz not null
);
create index audit_event_by_workspace on audit_event (tenant_id, workspace_id, id);

-- Keys accepted by the admin REST API, as SHA-256 hashes.
create table admin_api_key (
    id text primary key,
    key_hash text not null unique,
    created_at timestamptz not null
);
