import { Dashboard, type DashboardOptions } from './dashboard.js';
import { fetchHandler } from './fetch.js';
import { nodeHandler } from './node.js';

export type { DashboardAction } from './actions.js';
export type { DashboardOptions } from './dashboard.js';

export interface KobanDashboard {
  /** `(req, res)` for node:http, Express and Fastify (raw request and response). */
  readonly node: ReturnType<typeof nodeHandler>;
  /** `(request) => Response` for Hono, Bun and Deno. */
  readonly fetch: ReturnType<typeof fetchHandler>;
}

/**
 * Koban Web: the dashboard as request handlers to mount in your server, under `basePath`
 * (default `/koban`). Read only unless `authorize` allows a write.
 *
 *   const dashboard = kobanDashboard({ ops: await Koban.connect({ database }), authorize: (req, action) => isAdmin(req) });
 *   app.use('/koban', dashboard.node);                         // Express
 *   app.all('/koban/*', (c) => dashboard.fetch(c.req.raw));    // Hono
 */
export function kobanDashboard(options: DashboardOptions & { basePath?: string }): KobanDashboard {
  const basePath = (options.basePath ?? '/koban').replace(/\/$/, '');
  const dashboard = new Dashboard(options);
  return { node: nodeHandler(dashboard, basePath), fetch: fetchHandler(dashboard, basePath) };
}
