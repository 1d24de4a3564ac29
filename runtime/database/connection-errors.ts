import { KobanDatabaseError } from '../../sdk/errors.js';

const startHint =
  'Start PostgreSQL (for example `pg_ctlcluster <version> main start` or `docker run -p 5432:5432 postgres`), ' +
  'check the URL, or leave out `database` to use embedded PGlite.';

const timeoutCode = 'KOBAN_CONNECT_TIMEOUT';

/** The failure of a connection that got no answer in time; explained by explainConnectionError. */
export function connectTimeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: timeoutCode, timeoutMs });
}

/** Turns a driver's connection failure into an error that says what to do about it. */
export function explainConnectionError(error: unknown, target: string): KobanDatabaseError {
  const code = (error as { code?: string })?.code;
  const message = (error as Error)?.message ?? String(error);
  if (code === timeoutCode) {
    const { timeoutMs } = error as { timeoutMs: number };
    return new KobanDatabaseError(
      `cannot reach PostgreSQL at ${target}: no answer within ${timeoutMs} ms (host ${hostOf(target)}). ` +
        'Check that the host and port are right and that no firewall drops the connection, ' +
        'or raise `connectTimeout` for a slow network.',
      { cause: error },
    );
  }
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH' ||
    code === 'CONNECT_TIMEOUT'
  ) {
    return new KobanDatabaseError(`cannot reach PostgreSQL at ${target} (${code}). ${startHint}`, {
      cause: error,
    });
  }
  if (code === '3D000') {
    const name = /database "([^"]+)"/.exec(message)?.[1] ?? 'the database';
    return new KobanDatabaseError(
      `PostgreSQL at ${target} has no database ${name}: create it with \`createdb ${name}\` ` +
        `or \`CREATE DATABASE "${name}"\`, or point the URL at an existing one.`,
      { cause: error },
    );
  }
  if (code === '28P01' || code === '28000') {
    return new KobanDatabaseError(`PostgreSQL at ${target} refused the login: ${message}`, { cause: error });
  }
  return new KobanDatabaseError(`cannot use PostgreSQL at ${target}: ${message}`, { cause: error });
}

/** The host (and port) part of a URL, for messages. */
function hostOf(target: string): string {
  const authority = target.replace(/^[a-z]+:\/\//i, '').split(/[/?#]/)[0] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1) || target;
}
