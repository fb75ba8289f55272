-- How many dynamically registered clients each workspace holds, kept by the writes that add and
-- remove them: the workspace's cap (limits.max_dynamic_clients) then costs one row per
-- registration instead of a count of its clients. A registration adds one and sets
-- `checked_cap` to the cap in force (0: none), in the transaction that inserts the client, so
-- the check refuses the one that would pass the cap however many race for the last places. A
-- deletion takes one away and sets `checked_cap` to 0: nothing is being admitted.
create table dynamic_client_count (
    tenant_id text not null,
    workspace_id text not null,
    clients bigint not null,
    checked_cap bigint not null,
    primary key (tenant_id, workspace_id),
    foreign key (tenant_id, workspace_id) references workspace (tenant_id, id) on delete cascade,
    constraint dynamic_clients_within_cap check (checked_cap = 0 or clients <= checked_cap)
);

insert into dynamic_client_count (tenant_id, workspace_id, clients, checked_cap)
select tenant_id, workspace_id, count(*), 0 from client where dynamically_registered group by tenant_id, workspace_id;
