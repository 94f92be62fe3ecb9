CREATE TABLE "coverage_proofs" (
	"relay" text NOT NULL,
	"scope" text NOT NULL,
	"since" bigint NOT NULL,
	"until" bigint NOT NULL,
	"proven_at" bigint NOT NULL,
	CONSTRAINT "coverage_proofs_relay_scope_since_pk" PRIMARY KEY("relay","scope","since")
);
