CREATE TABLE "nostr_event_tags" (
	"event_id" text NOT NULL,
	"name" text NOT NULL,
	"value" text NOT NULL,
	"kind" integer NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "nostr_event_tags_event_id_name_value_pk" PRIMARY KEY("event_id","name","value")
);
--> statement-breakpoint
CREATE INDEX "nostr_event_tags_lookup_idx" ON "nostr_event_tags" USING btree ("name","value","kind","created_at" DESC NULLS LAST,"event_id");--> statement-breakpoint
CREATE INDEX "nostr_events_content_search_idx" ON "nostr_events" USING gin (to_tsvector('simple'::regconfig, "content"));