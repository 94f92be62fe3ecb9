/**
 * Every route group mounted under /v1. Each group is one file (or folder) in routes/.
 */
import type { RouteGroup } from '../app.js';
import { backfillRoutes } from './backfill.js';
import { communityRoutes } from './communities.js';
import { controlRoutes } from './control/index.js';
import { eventRoutes } from './events.js';
import { feedRoutes } from './feed.js';
import { feedStreamRoutes } from './feed-stream.js';
import { profileRoutes } from './profiles.js';
import { subclawRoutes } from './subclaws.js';

export const ROUTE_GROUPS: RouteGroup[] = [feedStreamRoutes, feedRoutes, eventRoutes, profileRoutes, communityRoutes, subclawRoutes, controlRoutes, backfillRoutes];
