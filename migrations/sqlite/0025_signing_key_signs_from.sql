-- When a key starts signing: later than when it was made for a planned rotation, which
-- publishes the key first. Null (every key made before, and any an older release makes during
-- a rolling upgrade) means when it was made; the store reads coalesce(signs_from, created_at).
alter table signing_key add column signs_from text;
