import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { maxBodyBytes, type WebRequest } from './http.js';

/**
 * A `(req, res, next?)` handler for node:http, Express (`app.use('/koban', handler)`, which
 * strips the mount path) and Fastify (`reply.hijack()`, then the raw request and response).
 * `basePath` is where it is mounted, as the browser sees it.
 */
export function nodeHandler(dashboard: Dashboard, basePath: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    // Express gives the path below the mount point; plain node:http gives the whole path.
    const path =
      basePath && url.pathname.startsWith(basePath) && !(req as { baseUrl?: string }).baseUrl
        ? url.pathname.slice(basePath.length) || '/'
        : url.pathname;
    const request: WebRequest = {
      method: req.method ?? 'GET',
      path,
      query: url.searchParams,
      headers: { get: (name) => headerOf(req, name) },
      body: () => readBody(req),
      raw: req,
    };
    const response = await dashboard.handle(request, basePath);
    res.writeHead(response.status, response.headers);
    res.end(req.method === 'HEAD' ? undefined : response.body);
  };
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name.toLowerCase()];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
