CREATE TABLE "communities" (
	"address" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"d" text NOT NULL,
	"name" text,
	"description" text,
	"image" text,
	"relays" jsonb NOT NULL,
	"event_id" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "community_approvals" (
	"approval_id" text NOT NULL,
	"community" text NOT NULL,
	"post_id" text,
	"post_address" text,
	"post_pubkey" text,
	"post_kind" integer,
	"approver" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "community_approvals_approval_id_community_pk" PRIMARY KEY("approval_id","community")
);
--> statement-breakpoint
CREATE TABLE "community_moderators" (
	"address" text NOT NULL,
	"pubkey" text NOT NULL,
	CONSTRAINT "community_moderators_address_pubkey_pk" PRIMARY KEY("address","pubkey")
);
--> statement-breakpoint
CREATE TABLE "event_relays" (
	"event_id" text NOT NULL,
	"relay" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_relays_event_id_relay_pk" PRIMARY KEY("event_id","relay")
);
--> statement-breakpoint
CREATE TABLE "event_stats" (
	"event_id" text PRIMARY KEY NOT NULL,
	"replies" integer DEFAULT 0 NOT NULL,
	"up" integer DEFAULT 0 NOT NULL,
	"down" integer DEFAULT 0 NOT NULL,
	"zap_count" integer DEFAULT 0 NOT NULL,
	"zap_msat" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "nostr_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"kind" integer NOT NULL,
	"pubkey" text NOT NULL,
	"created_at" bigint NOT NULL,
	"content" text NOT NULL,
	"tags_json" jsonb NOT NULL,
	"sig" text NOT NULL,
	"identifier" text,
	"subclaw" text,
	"community" text,
	"root_id" text,
	"parent_id" text,
	"target" text,
	"vote" smallint,
	"is_top_level" boolean DEFAULT false NOT NULL,
	"is_ai" boolean DEFAULT false NOT NULL,
	"d_tag" text,
	"address" text,
	"expires_at" bigint,
	"deleted_at" bigint,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"relay" text
);
--> statement-breakpoint
CREATE TABLE "nostr_profiles" (
	"pubkey" text PRIMARY KEY NOT NULL,
	"name" text,
	"display_name" text,
	"picture" text,
	"about" text,
	"nip05" text,
	"lud16" text,
	"lud06" text,
	"banner" text,
	"website" text,
	"bot" boolean,
	"content_valid" boolean NOT NULL,
	"event_id" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reactions" (
	"target" text NOT NULL,
	"reactor" text NOT NULL,
	"event_id" text NOT NULL,
	"vote" smallint NOT NULL,
	"emoji" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "reactions_target_reactor_pk" PRIMARY KEY("target","reactor")
);
--> statement-breakpoint
CREATE TABLE "tombstones" (
	"deletion_id" text NOT NULL,
	"target_type" text NOT NULL,
	"target" text NOT NULL,
	"pubkey" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "tombstones_deletion_id_target_pk" PRIMARY KEY("deletion_id","target")
);
--> statement-breakpoint
CREATE TABLE "zaps" (
	"receipt_id" text PRIMARY KEY NOT NULL,
	"receipt_pubkey" text NOT NULL,
	"target_event" text,
	"target_address" text,
	"recipient" text,
	"sender" text,
	"sender_verified" boolean NOT NULL,
	"amount_msat" bigint,
	"amount_from_request" boolean NOT NULL,
	"bolt11" text,
	"request_id" text,
	"request_valid" boolean NOT NULL,
	"amount_matches" boolean,
	"sender_tag_matches" boolean,
	"validity" smallint NOT NULL,
	"comment" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "coverage_ranges" (
	"relay" text NOT NULL,
	"scope" text NOT NULL,
	"since" bigint NOT NULL,
	"until" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coverage_ranges_relay_scope_since_pk" PRIMARY KEY("relay","scope","since")
);
--> statement-breakpoint
CREATE TABLE "relays" (
	"url" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'idle' NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_connected_at" timestamp with time zone,
	"last_event_at" timestamp with time zone,
	"last_error" text,
	"nip11" jsonb,
	"nip11_fetched_at" timestamp with time zone,
	"learned" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"auth_required" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "community_approvals_post_idx" ON "community_approvals" USING btree ("community","post_id");--> statement-breakpoint
CREATE UNIQUE INDEX "nostr_events_address_key" ON "nostr_events" USING btree ("address") WHERE "nostr_events"."address" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_feed_idx" ON "nostr_events" USING btree ("created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "nostr_events"."is_top_level" AND "nostr_events"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_subclaw_feed_idx" ON "nostr_events" USING btree ("subclaw","created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "nostr_events"."is_top_level" AND "nostr_events"."subclaw" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_community_idx" ON "nostr_events" USING btree ("community","created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "nostr_events"."community" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_author_idx" ON "nostr_events" USING btree ("pubkey","kind","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "nostr_events_parent_idx" ON "nostr_events" USING btree ("parent_id") WHERE "nostr_events"."parent_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_root_idx" ON "nostr_events" USING btree ("root_id") WHERE "nostr_events"."root_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_target_idx" ON "nostr_events" USING btree ("target","pubkey") WHERE "nostr_events"."target" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "nostr_events_expires_idx" ON "nostr_events" USING btree ("expires_at") WHERE "nostr_events"."expires_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "tombstones_target_idx" ON "tombstones" USING btree ("target");--> statement-breakpoint
CREATE INDEX "zaps_target_event_idx" ON "zaps" USING btree ("target_event") WHERE "zaps"."target_event" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "zaps_recipient_idx" ON "zaps" USING btree ("recipient");