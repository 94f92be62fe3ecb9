/**
 * Repository rows belong to one tenant (issue 15: B linking A's provider/owner/name received A's row,
 * url included, and could PATCH it). Over the API: two tenants linking the same repository get two
 * rows; members of an organization share theirs. And migration 0006 splits rows that an older
 * database shared: run on data shaped like the old schema (migrations up to 0004), each tenant ends
 * with its own row, same values, its links moved, nothing lost.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/client.js';
import { migrationsFolder, runMigrations } from '../../src/db/migrate.js';
import { createTestDatabase, engines, type TestDatabase } from '../helpers/engines.js';
import { createHarness, type Harness } from './helpers.js';

/** A copy of the migrations folder that stops before `firstLeftOut`. */
function migrationsBefore(firstLeftOut: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'nc-migrations-')), 'migrations');
  cpSync(migrationsFolder(), dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  const cut = journal.entries.findIndex((e) => e.tag === firstLeftOut);
  expect(cut).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, cut);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

describe.each(engines)('repositories per tenant on %s', (driver) => {
  let h: Harness;
  let a: string;
  let b: string;
  let member: string;
  beforeAll(async () => {
    h = await createHarness(driver);
    a = await h.mint('repo-a');
    b = await h.mint('repo-b');
    member = await h.mint('repo-member');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('two tenants linking the same repository get two rows; neither sees or edits the other', async () => {
    const pa = (await h.call('POST', '/v1/projects', { token: a, body: { name: 'A' } })).body.id;
    const pb = (await h.call('POST', '/v1/projects', { token: b, body: { name: 'B' } })).body.id;
    const ra = await h.call('POST', `/v1/projects/${pa}/repos`, { token: a, body: { owner: 'acme', name: 'app', url: 'https://a:secret@example.com/acme/app', default_branch: 'main' } });
    expect(ra.status).toBe(201);
    const rb = await h.call('POST', `/v1/projects/${pb}/repos`, { token: b, body: { owner: 'acme', name: 'app', url: 'https://example.com/acme/app' } });
    expect(rb.status).toBe(201);
    expect(rb.body.id).not.toBe(ra.body.id);
    expect(rb.body.url).toBe('https://example.com/acme/app');
    expect(rb.body.default_branch).toBeNull();
    expect(rb.body.user_id).toBe('repo-b');

    expect((await h.call('GET', `/v1/repos/${ra.body.id}`, { token: b })).status).toBe(404);
    expect((await h.call('PATCH', `/v1/repos/${ra.body.id}`, { token: b, body: { url: 'https://evil' } })).status).toBe(404);
    expect((await h.call('PATCH', `/v1/repos/${rb.body.id}`, { token: b, body: { default_branch: 'dev' } })).status).toBe(200);
    const mine = await h.call('GET', `/v1/repos/${ra.body.id}`, { token: a });
    expect(mine.body).toMatchObject({ url: 'https://a:secret@example.com/acme/app', default_branch: 'main' });

    // A second project of the same tenant reuses the tenant's row.
    const pa2 = (await h.call('POST', '/v1/projects', { token: a, body: { name: 'A2' } })).body.id;
    expect((await h.call('POST', `/v1/projects/${pa2}/repos`, { token: a, body: { owner: 'acme', name: 'app' } })).body.id).toBe(ra.body.id);
  });

  it("an organization's repository is shared by its members and leaves them with their membership", async () => {
    const org = (await h.call('POST', '/v1/organizations', { token: a, body: { name: 'Org' } })).body.id;
    expect((await h.call('POST', `/v1/organizations/${org}/members`, { token: a, body: { user_id: 'repo-member' } })).status).toBe(201);
    const project = (await h.call('POST', '/v1/projects', { token: a, body: { name: 'Shared', organization_id: org } })).body.id;
    const repo = await h.call('POST', `/v1/projects/${project}/repos`, { token: member, body: { owner: 'acme', name: 'app' } });
    expect(repo.status).toBe(201);
    expect(repo.body.organization_id).toBe(org);
    expect((await h.call('GET', `/v1/repos/${repo.body.id}`, { token: a })).status).toBe(200);
    expect((await h.call('DELETE', `/v1/organizations/${org}/members/repo-member`, { token: a })).status).toBe(204);
    expect((await h.call('GET', `/v1/repos/${repo.body.id}`, { token: member })).status).toBe(404);
  });
});

describe.each(engines)('migration 0006 on old-shaped data on %s', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver, migrationsBefore('0005_repos_per_tenant'));
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('splits each shared row per tenant, keeps values and links, drops unlinked rows', async () => {
    const db = database.db;
    const ORG = '01890000-0000-7000-8000-00000000000a';
    const [PA, PA2, PB, PO] = ['01', '02', '03', '04'].map((n) => `01890000-0000-7000-8000-0000000000${n}`);
    const [SHARED, SOLO, ORPHAN] = ['11', '12', '13'].map((n) => `01890000-0000-7000-8000-0000000000${n}`);
    await db.execute(sql`INSERT INTO users (id, user_id) VALUES (gen_random_uuid(), 'ua'), (gen_random_uuid(), 'ub')`);
    await db.execute(sql.raw(`INSERT INTO organizations (id, name) VALUES ('${ORG}', 'O')`));
    await db.execute(
      sql.raw(`INSERT INTO projects (id, name, user_id, organization_id) VALUES
        ('${PA}', 'a1', 'ua', NULL), ('${PA2}', 'a2', 'ua', NULL), ('${PB}', 'b', 'ub', NULL), ('${PO}', 'o', NULL, '${ORG}')`),
    );
    await db.execute(
      sql.raw(`INSERT INTO repos (id, provider, owner, name, default_branch, url, created_at) VALUES
        ('${SHARED}', 'github', 'acme', 'app', 'main', 'https://t@example.com/app', '2026-01-01T00:00:00Z'),
        ('${SOLO}', 'github', 'acme', 'solo', NULL, NULL, '2026-01-02T00:00:00Z'),
        ('${ORPHAN}', 'github', 'acme', 'orphan', NULL, NULL, '2026-01-03T00:00:00Z')`),
    );
    // A linked SHARED first (twice), then B, then the organization.
    await db.execute(
      sql.raw(`INSERT INTO project_repos (project_id, repo_id, created_at) VALUES
        ('${PA}', '${SHARED}', '2026-01-01T00:00:00Z'), ('${PA2}', '${SHARED}', '2026-01-05T00:00:00Z'),
        ('${PB}', '${SHARED}', '2026-01-02T00:00:00Z'), ('${PO}', '${SHARED}', '2026-01-03T00:00:00Z'),
        ('${PB}', '${SOLO}', '2026-01-02T00:00:00Z')`),
    );

    expect(await runMigrations(database)).toBeGreaterThanOrEqual(3);

    const rows = await query<{ id: string; user_id: string | null; organization_id: string | null; name: string; url: string | null; default_branch: string | null }>(
      db,
      sql`SELECT id, user_id, organization_id, name, url, default_branch FROM repos ORDER BY name, user_id NULLS LAST`,
    );
    const app = rows.filter((r) => r.name === 'app');
    expect(app).toHaveLength(3);
    // The first linker keeps the row and its id.
    expect(app.find((r) => r.user_id === 'ua')?.id).toBe(SHARED);
    for (const r of app) expect(r).toMatchObject({ url: 'https://t@example.com/app', default_branch: 'main' });
    expect(app.map((r) => r.user_id ?? r.organization_id).sort()).toEqual([ORG, 'ua', 'ub'].sort());
    expect(rows.find((r) => r.name === 'solo')).toMatchObject({ id: SOLO, user_id: 'ub' });
    expect(rows.find((r) => r.name === 'orphan')).toBeUndefined();

    const links = await query<{ project_id: string; owner_user: string | null; owner_org: string | null; repo_user: string | null; repo_org: string | null }>(
      db,
      sql`SELECT pr.project_id, p.user_id AS owner_user, p.organization_id AS owner_org, r.user_id AS repo_user, r.organization_id AS repo_org
          FROM project_repos pr JOIN projects p ON p.id = pr.project_id JOIN repos r ON r.id = pr.repo_id`,
    );
    expect(links).toHaveLength(5);
    for (const l of links) expect([l.repo_user, l.repo_org]).toEqual([l.owner_user, l.owner_org]);

    // The new constraint holds: a row without a tenant is refused.
    await expect(db.execute(sql`INSERT INTO repos (owner, name) VALUES ('x', 'y')`)).rejects.toThrow();
  });
});
