CREATE TABLE "coverage_holes" (
	"relay" text NOT NULL,
	"scope" text NOT NULL,
	"since" bigint NOT NULL,
	"until" bigint NOT NULL,
	"found_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "coverage_holes_relay_scope_since_until_pk" PRIMARY KEY("relay","scope","since","until")
);
