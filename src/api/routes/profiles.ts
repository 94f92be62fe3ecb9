/** GET /profiles/:pubkey and POST /profiles/batch: cached kind-0 profiles. */
import { createRoute, z } from '@hono/zod-openapi';
import { profilesByPubkeys } from '../../store/queries/profiles.js';
import type { RouteGroup } from '../app.js';
import { guardReads } from '../middleware/read-auth.js';
import { cacheReads } from '../middleware/read-cache.js';
import { cachedJson } from '../cached-json.js';
import { notFound } from '../errors.js';
import { parsePubkey } from '../ids.js';
import { ProfileSchema, errorResponses, jsonResponse, notFoundResponse, pubkeyParam } from '../schemas.js';
import { toProfile } from '../shape.js';

export const MAX_BATCH = 500;

const BatchSchema = z
  .object({
    profiles: z.array(ProfileSchema),
    missing: z.array(z.string()).openapi({ description: 'requested pubkeys (hex) without a cached profile' }),
  })
  .openapi('ProfileBatch');

const profileRoute = createRoute({
  method: 'get',
  path: '/profiles/{pubkey}',
  tags: ['profiles'],
  summary: 'One profile (hex, npub or nprofile)',
  request: { params: z.object({ pubkey: pubkeyParam }) },
  responses: { ...jsonResponse(ProfileSchema, 'the profile'), ...errorResponses, ...notFoundResponse },
});

const batchRoute = createRoute({
  method: 'post',
  path: '/profiles/batch',
  tags: ['profiles'],
  summary: `Up to ${MAX_BATCH} profiles at once`,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ pubkeys: z.array(pubkeyParam).min(1).max(MAX_BATCH) }),
        },
      },
    },
  },
  responses: { ...jsonResponse(BatchSchema, 'found profiles, in request order, and the missing pubkeys'), ...errorResponses },
});

export const profileRoutes: RouteGroup = (router, deps) => {
  cacheReads(router, deps, ['/profiles/*']);
  guardReads(router, deps, ['/profiles/*']);
  const db = deps.database.reads;

  router.openapi(profileRoute, async (c) => {
    const pubkey = parsePubkey(c.req.valid('param').pubkey)!;
    return cachedJson(c, deps.responseCache, 'profile', { pubkey }, async () => {
      const row = (await profilesByPubkeys(db, [pubkey]))[0];
      if (!row) throw notFound('profile');
      return toProfile(row);
    });
  });

  router.openapi(batchRoute, async (c) => {
    const requested = [...new Set(c.req.valid('json').pubkeys.map((p) => parsePubkey(p)!))];
    const rows = await profilesByPubkeys(db, requested);
    const byPubkey = new Map(rows.map((r) => [r.pubkey, r]));
    const profiles = requested.flatMap((p) => {
      const row = byPubkey.get(p);
      return row ? [toProfile(row)] : [];
    });
    return c.json({ profiles, missing: requested.filter((p) => !byPubkey.has(p)) }, 200);
  });
};
