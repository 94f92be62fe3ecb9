-- Fills post_ranking from the posts already stored (the write path keeps it from now on), with the
-- definition of src/store/ranking.ts: live top-level posts (kind 1111, or kind 1 in a community)
-- and their top score from event_stats. The hot snapshot is built by the first refresh.
INSERT INTO "post_ranking" ("event_id", "created_at", "subclaw", "community", "is_ai", "expires_at", "score")
SELECT e.event_id, e.created_at, e.subclaw, e.community, e.is_ai, e.expires_at,
  (COALESCE(s.up, 0) - COALESCE(s.down, 0) + 2 * COALESCE(s.replies, 0))::numeric
    + round(COALESCE(s.zap_msat, 0)::numeric / 10000, 4)
FROM "nostr_events" e LEFT JOIN "event_stats" s ON s.event_id = e.event_id
WHERE e.is_top_level AND e.kind IN (1, 1111) AND (e.kind = 1111 OR e.community IS NOT NULL)
  AND e.deleted_at IS NULL
ON CONFLICT DO NOTHING;
