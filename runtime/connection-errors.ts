import { KobanDatabaseError } from '../sdk/errors.js';

const startHint =
  'Start PostgreSQL (for example `pg_ctlcluster <version> main start` or `docker run -p 5432:5432 postgres`), ' +
  'check the URL, or leave out `database` to use embedded PGlite.';

/** Turns a driver's connection failure into an error that says what to do about it. */
export function explainConnectionError(error: unknown, target: string): KobanDatabaseError {
  const code = (error as { code?: string })?.code;
  const message = (error as Error)?.message ?? String(error);
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
