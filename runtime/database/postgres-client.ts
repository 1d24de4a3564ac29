import postgres from 'postgres';
import { arrayTypeOptions } from './postgres-arrays.js';

/**
 * The postgres.js client Koban opens for a URL, set up to survive connections that die at any
 * moment: a restart, a failover, `pg_terminate_backend`. postgres.js 3.4.9 has three faults
 * there, each worked around here:
 *
 * 1. With the default `fetch_types`, each new connection first runs a catalog query whose promise
 *    nobody awaits; a connection killed during it crashes the process with an unhandled rejection
 *    (porsager/postgres #1192, #1205, #1223). Koban turns it off and brings its own array types.
 * 2. Writes under 1 KiB are flushed on the next tick. When a socket closes with such a write
 *    pending, the driver cancels the flush but keeps the buffer and the cancelled timer, so that
 *    connection never flushes a small write again: its next startup message stays in the buffer,
 *    and the query waiting for it hangs until `connect_timeout` (30 s by default), then again on
 *    the next attempt. Under a termination storm this left a node idle for tens of seconds. A
 *    startup message of 1 KiB or more is written at once, together with whatever was stuck
 *    before it; the server drops that garbled connection and the next attempt is clean. The
 *    padding is whitespace in `client_encoding`, which the server ignores when it reads the
 *    name (it answers `UTF8`).
 * 3. The reconnect back-off grows to 20 s and is reset only by a connection that completes its
 *    startup, so after an outage or a storm a node waited long after the database was back.
 *    Koban caps it at `reconnectDelay`.
 */
export interface ClientSettings {
  readonly poolSize: number;
  readonly connectTimeout: number;
  readonly reconnectDelay: number;
  readonly password: string | undefined;
}

/** Bytes at and over which postgres.js writes at once instead of on the next tick. */
const immediateWriteBytes = 1024;

export function openPostgresClient(url: string, settings: ClientSettings): postgres.Sql {
  return postgres(url, {
    max: settings.poolSize,
    onnotice: () => {},
    ...(settings.password === undefined ? {} : { password: settings.password }),
    fetch_types: false,
    types: arrayTypeOptions(),
    connection: { client_encoding: `UTF8${' '.repeat(immediateWriteBytes)}` },
    connect_timeout: settings.connectTimeout / 1000,
    backoff: reconnectBackoff(settings.reconnectDelay),
  });
}

/** Seconds before reconnect attempt `attempt`: doubling from 25 ms, capped, with jitter. */
function reconnectBackoff(maxDelayMs: number): (attempt: number) => number {
  return (attempt) =>
    (Math.min(maxDelayMs, 25 * 2 ** Math.min(attempt, 20)) * (0.5 + Math.random() / 2)) / 1000;
}
