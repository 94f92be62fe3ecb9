-- Seen-on relays become one row per event with its relays in first-seen order (was one row per
-- (event, relay)): copies from several relays are written with the event instead of as extra rows.
ALTER TABLE "event_relays" RENAME TO "event_relays_by_relay";
--> statement-breakpoint
CREATE TABLE "event_relays" (
	"event_id" text PRIMARY KEY NOT NULL,
	"relays" text[] NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
INSERT INTO "event_relays" ("event_id", "relays", "first_seen_at")
SELECT "event_id", array_agg("relay" ORDER BY "first_seen_at", "relay"), min("first_seen_at")
FROM "event_relays_by_relay" GROUP BY "event_id";
--> statement-breakpoint
DROP TABLE "event_relays_by_relay";
