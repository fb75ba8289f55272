-- A sandbox TPP made in the console: the server holds its whole bundle (test keys and
-- certificate, statement) as JSON, so it can be downloaded and registered with one click.
-- Software enrolled by `onboard tpp init` keeps its keys itself: null here.
alter table sandbox_software add column held_bundle text;
