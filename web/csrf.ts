import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebRequest } from './http.js';

export const csrfCookie = 'koban_csrf';
export const csrfHeader = 'x-koban-csrf';

/** A new token for a page: set as an HttpOnly, SameSite=Strict cookie and written into the page. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function tokenCookie(token: string, basePath: string, secure: boolean): string {
  return `${csrfCookie}=${token}; Path=${basePath || '/'}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * A write must carry the page's token in a header, equal to the cookie (a double submit that a
 * cross-site form cannot make: it can neither read the token nor set the header), and come from
 * this origin when the browser says where it comes from.
 */
export function checkWrite(request: WebRequest): string | undefined {
  const cookie = cookieValue(request.headers.get('cookie'), csrfCookie);
  const header = request.headers.get(csrfHeader);
  if (!cookie || !header) return 'missing CSRF token: reload the page';
  const a = Buffer.from(cookie);
  const b = Buffer.from(header);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'CSRF token does not match: reload the page';
  const origin = request.headers.get('origin');
  const host = request.headers.get('host');
  if (origin && host && new URL(origin).host !== host)
    return `cross-origin write refused (from ${new URL(origin).host})`;
  if (request.headers.get('sec-fetch-site') === 'cross-site') return 'cross-site write refused';
  return undefined;
}

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
