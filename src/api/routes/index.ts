/**
 * Every route group mounted under /v1. Each group is one file (or folder) in routes/.
 */
import type { RouteGroup } from '../app.js';

export const ROUTE_GROUPS: RouteGroup[] = [];
