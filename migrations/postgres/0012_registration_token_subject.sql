-- A registration access token is bound to the subject of the trusted client certificate its
-- client registered over (empty when it registered without one): presented over another
-- certificate, or none, it opens nothing. A subject, not the certificate itself, so that the
-- TPP's renewed transport certificate (same subject, from a trusted CA) keeps it working.
alter table client add column registration_access_token_subject text;
