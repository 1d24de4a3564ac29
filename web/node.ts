import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { bodyTooLarge, maxBodyBytes, RequestBodyError, type WebRequest } from './http.js';

/**
 * A `(req, res)` handler for node:http, Express (`app.use('/koban', handler)`, which strips the
 * mount path) and Fastify (`reply.hijack()` in the route's `onRequest` hook, before Fastify reads
 * the body, then the raw request and response). `basePath` is where it is mounted, as the
 * browser sees it.
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

/**
 * The body as text. An app's body parser (Express's `express.json()` in front of the mount) may
 * have read the stream already and left what it parsed in `req.body`: that is used instead, since
 * the stream will never end again. A stream read by someone else, with nothing left, is an error
 * rather than a request that waits forever.
 */
function readBody(req: IncomingMessage): Promise<string> {
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined) {
    const text =
      typeof parsed === 'string'
        ? parsed
        : Buffer.isBuffer(parsed)
          ? parsed.toString('utf8')
          : JSON.stringify(parsed);
    return Buffer.byteLength(text) > maxBodyBytes ? Promise.reject(bodyTooLarge()) : Promise.resolve(text);
  }
  if (req.readableEnded) {
    return Promise.reject(
      new RequestBodyError(
        500,
        'the request body was read before the dashboard got it: mount the dashboard before the body parser (Fastify: in onRequest)',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reject(bodyTooLarge());
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
