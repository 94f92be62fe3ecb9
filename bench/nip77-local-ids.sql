-- NIP-77 local ids: the query store/local-events.ts sends for each NEG-OPEN, timed with and
-- without the (kind, created_at) index of migration 0004. Run against a database filled with the
-- 1M-event bench file (see "NIP-77 local ids" in bench/RESULTS.md for the exact steps):
--   psql "$DATABASE_URL" -f bench/nip77-local-ids.sql
-- The time bounds are those of bench/.data/events-1m.jsonl (seed 1): its newest day and hour.
\timing on
-- web comments (#K web) over the newest day
EXPLAIN (ANALYZE, BUFFERS) SELECT e.event_id, e.created_at FROM nostr_events e
 WHERE e.created_at BETWEEN 1749913591 AND 1749999991 AND e.kind IN (1111)
   AND EXISTS (SELECT 1 FROM jsonb_array_elements(e.tags_json) t WHERE t->>0 = 'K' AND t->>1 IN ('web'))
 LIMIT 100001;
-- reactions over the newest hour
EXPLAIN (ANALYZE, BUFFERS) SELECT e.event_id, e.created_at FROM nostr_events e
 WHERE e.created_at BETWEEN 1749996391 AND 1749999991 AND e.kind IN (7)
 LIMIT 100001;
-- web comments over the whole file, capped as a reconciliation is (100,000 local ids)
EXPLAIN (ANALYZE, BUFFERS) SELECT e.event_id, e.created_at FROM nostr_events e
 WHERE e.created_at BETWEEN 1744816002 AND 1749999991 AND e.kind IN (1111)
   AND EXISTS (SELECT 1 FROM jsonb_array_elements(e.tags_json) t WHERE t->>0 = 'K' AND t->>1 IN ('web'))
 LIMIT 100001;
