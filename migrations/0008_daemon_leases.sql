CREATE TABLE "daemon_leases" (
	"pid" integer PRIMARY KEY NOT NULL,
	"daemon_id" text NOT NULL,
	"renewed_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
