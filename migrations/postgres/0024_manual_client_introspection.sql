-- Manual clients made before `may_introspect` existed could introspect any token of their
-- workspace. Say so in their registration, so the console shows it and an administrator can
-- withdraw it; from now on a registration without the member may not.
update client
set metadata = jsonb_set(metadata, '{may_introspect}', 'true'::jsonb)
where not dynamically_registered and not (metadata ? 'may_introspect');
