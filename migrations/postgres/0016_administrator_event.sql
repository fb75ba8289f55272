-- Administrators' activity, for the whole installation: console sign-ins (refused ones and
-- locked addresses too) and sign-outs, administrators created and passwords changed on the
-- command line, and what administrators do in a tenant outside any one workspace (workspaces
-- created, sandbox software enrolled, deleted and downloaded). `email` is the administrator
-- acting or signing in; `actor` names anyone else (`admin API key`, `command line`); `detail`
-- what was acted on. Never holds a password or a session id. Listed newest first by id.
create table administrator_event (
    id bigint generated always as identity primary key,
    event_type text not null,
    outcome text not null check (outcome in ('success', 'failure')),
    email text,
    actor text,
    remote_addr text,
    detail text,
    created_at timestamptz not null
);
