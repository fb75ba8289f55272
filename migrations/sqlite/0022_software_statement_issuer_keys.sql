-- Software statement issuers get keys of their own. Until now one key set
-- (`software_statement_keys`) verified statements naming any of `trusted_ssa_issuers`, so the
-- holder of one trusted directory's keys could issue statements in another's name. Each issuer
-- becomes `{"issuer", "keys"}` with the key set it was verified with so far: what was trusted
-- stays trusted, and the console then shows each issuer's keys to be given their own. Keys
-- configured with no issuer named verified nothing and are dropped.
update workspace
set dcr_settings = json_set(
    json_remove(dcr_settings, '$.software_statement_keys', '$.trusted_ssa_issuers'),
    '$.software_statement_issuers',
    json((
        select json_group_array(json_object(
            'issuer', issuer.value,
            'keys', json(json_extract(workspace.dcr_settings, '$.software_statement_keys'))
        ))
        from json_each(workspace.dcr_settings, '$.trusted_ssa_issuers') as issuer
    ))
)
where json_type(dcr_settings, '$.software_statement_issuers') is null;
