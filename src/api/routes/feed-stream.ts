/**
 * GET /v1/feed/stream: server-sent events for the feed's filters (subclaw, community, author, ai),
 * following commits from any process (relay/live-events.ts). Events:
 *   `post`  a new top-level post the feed selects (the feed item shape);
 *   `stats` a post of the feed whose replies, votes or zaps changed: {id, stats} (the feed item's stats);
 *   `interrupted` the server stopped hearing commits (some may be missed): reconnect and re-read the feed.
 * A comment line every 15 s keeps proxies from closing an idle stream.
 */
import { streamSSE } from 'hono/streaming';
import { statTargetsOf, feedPostsAmong, type StreamFilter } from '../../store/queries/feed-stream.js';
import type { RouteGroup } from '../app.js';
import { errorBody } from '../errors.js';
import { parseCommunityAddress, parsePubkey } from '../ids.js';
import { guardReads } from '../middleware/read-auth.js';
import type { LiveListener } from '../relay/live-events.js';
import { feedQuery } from '../schemas.js';
import { toPost } from '../shape.js';

const streamQuery = feedQuery.pick({ subclaw: true, community: true, author: true, ai: true });
const KEEPALIVE_MS = 15_000;

export const feedStreamRoutes: RouteGroup = (router, deps) => {
  guardReads(router, deps, ['/feed/stream']);
  router.get('/feed/stream', (c) => {
    const live = deps.liveEvents;
    if (!live) return c.json(errorBody('unavailable', 'this process does not follow commits'), 503);
    const parsed = streamQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return c.json(errorBody('bad_request', `${issue?.path.join('.') ?? 'query'}: ${issue?.message ?? 'invalid'}`), 400);
    }
    const q = parsed.data;
    const filter: StreamFilter = {
      subclaw: q.subclaw,
      community: q.community === undefined ? undefined : (parseCommunityAddress(q.community) ?? undefined),
      author: q.author === undefined ? undefined : (parsePubkey(q.author) ?? undefined),
      ai: q.ai ?? deps.config.feedAiDefault,
    };
    const db = deps.database.reads;
    return streamSSE(c, async (stream) => {
      // Commits are handled one at a time, in order, so a post is sent before its stats change.
      let chain = Promise.resolve();
      let ended = false;
      const listener: LiveListener = {
        deliver(events) {
          const ids = events.map((e) => e.id);
          chain = chain.then(async () => {
            if (ended) return;
            const now = Math.floor(Date.now() / 1000);
            for (const row of await feedPostsAmong(db, ids, filter, now)) {
              await stream.writeSSE({ event: 'post', id: row.event_id, data: JSON.stringify(toPost(row)) });
            }
            const targets = await statTargetsOf(db, ids);
            for (const row of await feedPostsAmong(db, targets, filter, now)) {
              const p = toPost(row);
              await stream.writeSSE({ event: 'stats', data: JSON.stringify({ id: p.id, stats: p.stats }) });
            }
          }).catch((error: unknown) => deps.log.error({ err: error }, 'feed stream failed'));
        },
        interrupted(reason) {
          chain = chain.then(() => stream.writeSSE({ event: 'interrupted', data: JSON.stringify({ reason }) })).then(() => stream.close());
        },
      };
      const stop = live.listen(listener);
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n'), KEEPALIVE_MS);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      ended = true;
      clearInterval(keepalive);
      stop();
    });
  });
};
