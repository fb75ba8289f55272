-- A tenant's sandbox directory: the key that signs its software statements and the CA that
-- issues its transport certificates, made on first use. Test material, never trusted by a
-- workspace unless its DCR settings say so.
create table sandbox_directory (
    tenant_id text primary key references tenant (id) on delete cascade,
    signing_key_pem text not null,
    ca_cert_pem text not null,
    ca_key_pem text not null,
    created_at text not null
);

-- Software the sandbox directory has enrolled: its details and public key set (published at
-- its software_jwks_endpoint). Enrolling the same software id again replaces it.
create table sandbox_software (
    tenant_id text not null references tenant (id) on delete cascade,
    software_id text not null,
    document text not null,
    created_at text not null,
    primary key (tenant_id, software_id)
);
