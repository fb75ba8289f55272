-- Administrators' changes to a workspace (its general and DCR settings, policies, signing keys,
-- manual clients) are audited: `actor` is who made one (the administrator's email, or the admin
-- API key), `detail` what it was ("policy reserved-names changed"). Both are empty for the
-- protocol's own events.
alter table audit_event add column actor text;
alter table audit_event add column detail text;
