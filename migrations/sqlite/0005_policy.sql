-- DCR policies: validator rules or a Rego module an administrator attaches to a workspace's
-- register endpoint (the workspace's dcr_settings name one by id). `body` is the JSON
-- {"language": ..., "body": ...} the application validates and compiles before writing.
create table dcr_policy (
    tenant_id text not null,
    workspace_id text not null,
    id text not null,
    name text not null,
    language text not null check (language in ('validators', 'rego')),
    body text not null,
    created_at text not null,
    updated_at text not null,
    primary key (tenant_id, workspace_id, id),
    foreign key (tenant_id, workspace_id) references workspace (tenant_id, id) on delete cascade
);
