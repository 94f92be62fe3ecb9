CREATE TABLE "hot_ranking" (
	"generation" integer NOT NULL,
	"event_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"subclaw" text,
	"community" text,
	"is_ai" boolean NOT NULL,
	"hot" numeric NOT NULL,
	CONSTRAINT "hot_ranking_generation_event_id_pk" PRIMARY KEY("generation","event_id")
);
--> statement-breakpoint
CREATE TABLE "post_ranking" (
	"event_id" text PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"subclaw" text,
	"community" text,
	"is_ai" boolean NOT NULL,
	"expires_at" bigint,
	"score" numeric NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ranking_generations" (
	"generation" integer PRIMARY KEY NOT NULL,
	"ref" bigint NOT NULL,
	"built_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "hot_ranking_hot_idx" ON "hot_ranking" USING btree ("generation","hot" DESC NULLS LAST,"created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "hot_ranking_subclaw_hot_idx" ON "hot_ranking" USING btree ("generation","subclaw","hot" DESC NULLS LAST,"created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "hot_ranking"."subclaw" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "hot_ranking_community_hot_idx" ON "hot_ranking" USING btree ("generation","community","hot" DESC NULLS LAST,"created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "hot_ranking"."community" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "post_ranking_top_idx" ON "post_ranking" USING btree ("score" DESC NULLS LAST,"created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "post_ranking_subclaw_top_idx" ON "post_ranking" USING btree ("subclaw","score" DESC NULLS LAST,"created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "post_ranking"."subclaw" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "post_ranking_community_top_idx" ON "post_ranking" USING btree ("community","score" DESC NULLS LAST,"created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST) WHERE "post_ranking"."community" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "post_ranking_created_idx" ON "post_ranking" USING btree ("created_at" DESC NULLS LAST,"event_id" DESC NULLS LAST);