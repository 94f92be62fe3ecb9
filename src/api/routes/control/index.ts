/**
 * The control plane under /v1: the app's users, tokens, organizations, projects, threads, issues,
 * knowledge, agents and counters. Every route requires a bearer token (src/api/auth.ts); what a caller
 * reaches is decided in the store (src/control/). See docs/control-plane.md.
 */
import type { RouteGroup } from '../../app.js';
import { accountRoutes } from './account.js';
import { agentRoutes } from './agents.js';
import { registerBearerScheme } from './common.js';
import { issueRoutes } from './issues.js';
import { knowledgeRoutes } from './knowledge.js';
import { numberRoutes } from './numbers.js';
import { organizationRoutes } from './organizations.js';
import { projectRoutes } from './projects.js';
import { threadRoutes } from './threads.js';

export const controlRoutes: RouteGroup = (router, deps) => {
  registerBearerScheme(router);
  accountRoutes(router, deps);
  organizationRoutes(router, deps);
  projectRoutes(router, deps);
  threadRoutes(router, deps);
  issueRoutes(router, deps);
  knowledgeRoutes(router, deps);
  agentRoutes(router, deps);
  numberRoutes(router, deps);
};
