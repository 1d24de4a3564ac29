import { readFile } from 'node:fs/promises';
import { consoleLogger, type KobanLogger } from '../runtime/node/logger.js';
import type { KobanOps } from '../runtime/ops/ops.js';
import { KobanError, KobanValidationError } from '../sdk/errors.js';
import { actionRoutes, type DashboardAction } from './actions.js';
import { checkWrite, csrfHeader, newToken, tokenCookie } from './csrf.js';
import {
  jsonResponse,
  maxBodyBytes,
  problem,
  RequestBodyError,
  securityHeaders,
  type WebRequest,
  type WebResponse,
} from './http.js';
import { LiveCache } from './live-cache.js';
import { readRoutes } from './reads.js';
import { shell } from './shell.js';

export interface DashboardOptions {
  /** The operator's client the dashboard reads and steers through (`Koban.connect`). */
  readonly ops: KobanOps;
  /**
   * Decides whether a write may happen. Without it the dashboard is read only. Called with the
   * server's own request (to read your session) and the action, for example `'jobs.cancel'`.
   */
  readonly authorize?: (request: unknown, action: DashboardAction) => boolean | Promise<boolean>;
  /** Milliseconds between refreshes of an open page; every tab shares one read per interval. Default 2000. */
  readonly refreshInterval?: number;
  /** Mark the CSRF cookie Secure (when the dashboard is served over HTTPS). Default false. */
  readonly secureCookie?: boolean;
  /** Where a failed request (a 500 that is not Koban's own error) is logged. Default: console. */
  readonly logger?: KobanLogger;
}

const assetTypes: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/**
 * The dashboard, independent of any server: a request in, a response out. The node:http and
 * Fetch adapters (node.ts, fetch.ts) put it behind Express, Fastify, Hono, Bun, Deno or plain
 * node:http.
 */
export class Dashboard {
  private readonly cache: LiveCache;
  private readonly reads: ReturnType<typeof readRoutes>;
  private readonly actions: ReturnType<typeof actionRoutes>;
  private readonly refreshMs: number;

  constructor(private readonly options: DashboardOptions) {
    this.refreshMs = options.refreshInterval ?? 2000;
    this.cache = new LiveCache(this.refreshMs);
    this.reads = readRoutes(options.ops);
    this.actions = actionRoutes(options.ops);
  }

  /** `basePath`: where the dashboard is mounted (`/koban`), for its links and cookie. */
  async handle(request: WebRequest, basePath: string): Promise<WebResponse> {
    try {
      if (request.method === 'GET' || request.method === 'HEAD') return await this.get(request, basePath);
      if (request.method === 'POST') return await this.post(request);
      return problem(405, `method ${request.method} not allowed`);
    } catch (error) {
      if (error instanceof KobanValidationError) return problem(400, error.message);
      if (error instanceof RequestBodyError) return problem(error.status, error.message);
      // A database or other failure: its message names no args (those stay in the database).
      if (error instanceof KobanError) return problem(500, error.message);
      (this.options.logger ?? consoleLogger).error(
        { method: request.method, path: request.path, error },
        `koban web: ${request.method} ${request.path} failed`,
      );
      return problem(500, 'internal error; see the server log');
    }
  }

  private async get(request: WebRequest, basePath: string): Promise<WebResponse> {
    const { path } = request;
    if (path === '/' || path === '') {
      const token = newToken();
      const writable = this.options.authorize !== undefined;
      return {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'set-cookie': tokenCookie(token, basePath, this.options.secureCookie ?? false),
          ...securityHeaders,
        },
        body: shell({ basePath, token, writable, refreshMs: this.refreshMs, csrfHeader }),
      };
    }
    const asset = /^\/assets\/([a-z]+\.(?:js|css))$/.exec(path)?.[1];
    if (asset && assetTypes[asset]) {
      const body = await readFile(new URL(`./assets/${asset}`, import.meta.url));
      return {
        status: 200,
        headers: { 'content-type': assetTypes[asset], 'cache-control': 'no-cache', ...securityHeaders },
        body,
      };
    }
    for (const [pattern, read] of this.reads) {
      const match = pattern.exec(path);
      if (!match) continue;
      const key = `${path}?${[...request.query]
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join('&')}`;
      const { body, etag } = await this.cache.get(key, () => read(match, request.query));
      if (body === 'null') return problem(404, 'not found');
      if (request.headers.get('if-none-match') === etag) {
        return { status: 304, headers: { etag, 'cache-control': 'no-cache', ...securityHeaders }, body: '' };
      }
      return {
        status: 200,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          etag,
          'cache-control': 'no-cache',
          ...securityHeaders,
        },
        body,
      };
    }
    return problem(404, 'not found');
  }

  private async post(request: WebRequest): Promise<WebResponse> {
    for (const [pattern, actionOf, run] of this.actions) {
      const match = pattern.exec(request.path);
      if (!match) continue;
      const action = actionOf(match);
      const forged = checkWrite(request);
      if (forged) return problem(403, forged);
      const authorize = this.options.authorize;
      if (!authorize || !(await authorize(request.raw, action))) {
        return problem(403, `not allowed: ${action} (the dashboard is read only unless authorize allows it)`);
      }
      if (!(request.headers.get('content-type') ?? '').startsWith('application/json')) {
        return problem(415, 'expected a JSON body (content-type: application/json)');
      }
      const text = await request.body();
      let body: unknown;
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        return problem(400, 'the body is not valid JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        return problem(400, 'expected a JSON object');
      const result = await run(match, body as Record<string, unknown>);
      this.cache.clear();
      return jsonResponse(200, result ?? {});
    }
    return problem(404, 'not found');
  }
}

export { maxBodyBytes };
