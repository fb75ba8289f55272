-- Software statement issuers get keys of their own. Until now one key set
-- (`software_statement_keys`) verified statements naming any of `trusted_ssa_issuers`, so the
-- holder of one trusted directory's keys could issue statements in another's name. Each issuer
-- becomes `{"issuer", "keys"}` with the key set it was verified with so far: what was trusted
-- stays trusted, and the console then shows each issuer's keys to be given their own. Keys
-- configured with no issuer named verified nothing and are dropped.
update workspace
set dcr_settings = (dcr_settings - 'software_statement_keys' - 'trusted_ssa_issuers')
    || jsonb_build_object(
        'software_statement_issuers',
        coalesce(
            (
                select jsonb_agg(jsonb_build_object(
                    'issuer', issuer.value,
                    'keys', coalesce(dcr_settings -> 'software_statement_keys', 'null'::jsonb)
                ) order by issuer.position)
                from jsonb_array_elements_text(coalesce(dcr_settings -> 'trusted_ssa_issuers', '[]'::jsonb))
                    with ordinality as issuer(value, position)
            ),
            '[]'::jsonb
        )
    )
where not dcr_settings ? 'software_statement_issuers';
