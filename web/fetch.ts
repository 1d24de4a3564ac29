import type { Dashboard } from './dashboard.js';
import { bodyTooLarge, maxBodyBytes } from './http.js';

/** A Fetch-API handler, `(request) => Response`, for Hono (`c.req.raw`), Bun.serve and Deno.serve. */
export function fetchHandler(dashboard: Dashboard, basePath: string) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path =
      basePath && url.pathname.startsWith(basePath)
        ? url.pathname.slice(basePath.length) || '/'
        : url.pathname;
    const response = await dashboard.handle(
      {
        method: request.method,
        path,
        query: url.searchParams,
        headers: request.headers,
        body: async () => {
          const text = await request.text();
          if (Buffer.byteLength(text) > maxBodyBytes) throw bodyTooLarge();
          return text;
        },
        raw: request,
      },
      basePath,
    );
    return new Response(response.status === 304 || request.method === 'HEAD' ? null : response.body, {
      status: response.status,
      headers: response.headers,
    });
  };
}
