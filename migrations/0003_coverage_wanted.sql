CREATE TABLE "coverage_wanted" (
	"relay" text NOT NULL,
	"scope" text NOT NULL,
	"since" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coverage_wanted_relay_scope_pk" PRIMARY KEY("relay","scope")
);
