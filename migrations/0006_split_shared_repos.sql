-- Repository rows were shared by every tenant linking the same provider/owner/name (issue 15):
-- B's link returned A's row and B could edit it. Each tenant (the owner of the linking projects,
-- a user or an organization) now gets its own row: the tenant that linked first keeps the row and
-- its id, every other tenant gets a copy with the same values (the ones it saw before) and its
-- links move to the copy. Rows no project links are removed (unlinking already removed them).
CREATE TEMPORARY TABLE repo_tenants AS
SELECT
  pr.repo_id,
  p.user_id,
  p.organization_id,
  row_number() OVER (PARTITION BY pr.repo_id ORDER BY min(pr.created_at), min(pr.project_id::text)) AS rank
FROM project_repos pr
JOIN projects p ON p.id = pr.project_id
GROUP BY pr.repo_id, p.user_id, p.organization_id;--> statement-breakpoint
ALTER TABLE repo_tenants ADD COLUMN new_id uuid;--> statement-breakpoint
UPDATE repo_tenants SET new_id = CASE WHEN rank = 1 THEN repo_id ELSE gen_random_uuid() END;--> statement-breakpoint
UPDATE repos r
SET user_id = t.user_id, organization_id = t.organization_id
FROM repo_tenants t
WHERE t.repo_id = r.id AND t.rank = 1;--> statement-breakpoint
INSERT INTO repos (id, user_id, organization_id, provider, owner, name, default_branch, url, created_at)
SELECT t.new_id, t.user_id, t.organization_id, r.provider, r.owner, r.name, r.default_branch, r.url, r.created_at
FROM repo_tenants t
JOIN repos r ON r.id = t.repo_id
WHERE t.rank > 1;--> statement-breakpoint
UPDATE project_repos pr
SET repo_id = t.new_id
FROM projects p, repo_tenants t
WHERE p.id = pr.project_id
  AND t.repo_id = pr.repo_id
  AND t.rank > 1
  AND p.user_id IS NOT DISTINCT FROM t.user_id
  AND p.organization_id IS NOT DISTINCT FROM t.organization_id;--> statement-breakpoint
DELETE FROM repos WHERE user_id IS NULL AND organization_id IS NULL;--> statement-breakpoint
DROP TABLE repo_tenants;
