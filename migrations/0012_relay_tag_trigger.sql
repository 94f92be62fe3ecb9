-- The relay endpoint's tag index (nostr_event_tags) follows nostr_events by itself: one statement-level
-- trigger per INSERT statement copies the single-letter tags of the new rows (values up to 512 bytes;
-- a filter on a longer value is refused by the relay), and announces the new ids on the channel
-- 'nostr_cache_events' in chunks of 100 ("<ms since epoch>:<id>,<id>,..."), delivered at commit, so
-- every process's open subscriptions hear every committed event. A second statement trigger removes the
-- rows of deleted events (replaced versions, purged expiries): no foreign key, whose check would probe
-- nostr_events' primary key for every tag row written.
CREATE FUNCTION nostr_event_tags_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO nostr_event_tags (event_id, name, value, kind, created_at)
  SELECT n.event_id, t.tag->>0, t.tag->>1, n.kind, n.created_at
  FROM new_events n CROSS JOIN LATERAL jsonb_array_elements(n.tags_json) AS t(tag)
  WHERE jsonb_typeof(t.tag) = 'array' AND jsonb_array_length(t.tag) >= 2
    AND length(t.tag->>0) = 1 AND octet_length(t.tag->>1) <= 512
  ON CONFLICT DO NOTHING;
  PERFORM pg_notify('nostr_cache_events', floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint || ':' || c.ids)
  FROM (SELECT string_agg(s.event_id, ',') AS ids
        FROM (SELECT event_id, (row_number() OVER () - 1) / 100 AS chunk FROM new_events) s
        GROUP BY s.chunk) c;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER nostr_event_tags_fill AFTER INSERT ON nostr_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION nostr_event_tags_fill();
--> statement-breakpoint
CREATE FUNCTION nostr_event_tags_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM nostr_event_tags t USING old_events o WHERE t.event_id = o.event_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER nostr_event_tags_remove AFTER DELETE ON nostr_events
  REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION nostr_event_tags_remove();
--> statement-breakpoint
INSERT INTO nostr_event_tags (event_id, name, value, kind, created_at)
SELECT e.event_id, t.tag->>0, t.tag->>1, e.kind, e.created_at
FROM nostr_events e CROSS JOIN LATERAL jsonb_array_elements(e.tags_json) AS t(tag)
WHERE jsonb_typeof(t.tag) = 'array' AND jsonb_array_length(t.tag) >= 2
  AND length(t.tag->>0) = 1 AND octet_length(t.tag->>1) <= 512
ON CONFLICT DO NOTHING;
