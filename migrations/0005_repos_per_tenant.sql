DROP INDEX "repos_provider_owner_name_key";--> statement-breakpoint
ALTER TABLE "repos" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "repos" ADD COLUMN "organization_id" uuid;--> statement-breakpoint
ALTER TABLE "repos" ADD CONSTRAINT "repos_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "repos" ADD CONSTRAINT "repos_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "repos_user_provider_owner_name_key" ON "repos" USING btree ("user_id","provider","owner","name") WHERE "repos"."user_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "repos_organization_provider_owner_name_key" ON "repos" USING btree ("organization_id","provider","owner","name") WHERE "repos"."organization_id" IS NOT NULL;