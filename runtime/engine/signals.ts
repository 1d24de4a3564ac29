import { sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import type { FlowChange } from './flow.js';
import type { StoredQueueState } from './queues.js';

/** The NOTIFY channel that wakes the producers of a queue: its payload is the queue's name. */
export function insertChannel(schema: string): string {
  return `${schema}_insert`;
}

/** The NOTIFY channel of queue changes, job aborts and cron changes, as JSON Signals. */
export function signalChannel(schema: string): string {
  return `${schema}_signal`;
}

export type Signal =
  /** With `node`, only on the node of that name, and not stored. */
  | { readonly action: 'pause' | 'resume'; readonly queue: string; readonly node?: string }
  | { readonly action: 'scale'; readonly queue: string; readonly limit: number }
  /** The queue's cluster-wide limits changed: `flow` is every change stored so far. */
  | { readonly action: 'configure'; readonly queue: string; readonly flow: FlowChange | null }
  /** A queue started at run time on every node, or stopped on every node. */
  | { readonly action: 'start'; readonly queue: string; readonly state: StoredQueueState }
  | { readonly action: 'stop'; readonly queue: string }
  | { readonly action: 'abort'; readonly ids: readonly string[] }
  /** The stored cron entries changed: read them again. */
  | { readonly action: 'cron' }
  /** Run a configured cron entry now: the nodes that have it insert its job, once by `request`. */
  | { readonly action: 'cron-run'; readonly name: string; readonly request: string };

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; job ids are ASCII. */
const payloadLimit = 7900;

/**
 * Tells every node, this one included, about a queue or job change. An abort of many jobs goes
 * as several messages, each under the payload limit, in one statement.
 */
export async function signal({ database, schema }: EngineContext, message: Signal): Promise<void> {
  const payloads = message.action === 'abort' ? abortPayloads(message.ids) : [JSON.stringify(message)];
  if (payloads.length === 0) return;
  await database.query(
    sql`SELECT pg_notify(${signalChannel(schema)}, payload) FROM unnest(${list(payloads, 'text')}) AS payload`,
  );
}

function abortPayloads(ids: readonly string[]): string[] {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const id of ids) {
    if (size + id.length + 3 > payloadLimit - 30 && chunk.length > 0) {
      payloads.push(JSON.stringify({ action: 'abort', ids: chunk }));
      chunk = [];
      size = 0;
    }
    chunk.push(id);
    size += id.length + 3;
  }
  if (chunk.length > 0) payloads.push(JSON.stringify({ action: 'abort', ids: chunk }));
  return payloads;
}

/**
 * Which of `ids` are still executing: what a node that cannot LISTEN (behind a pooler without a
 * direct URL) polls, to abort those of its running jobs that were cancelled or deleted meanwhile.
 */
export async function stillExecuting(
  { database, schema }: EngineContext,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await database.query<{ id: string }>(sql`
    SELECT id::text AS id FROM ${sql.raw(schema)}.jobs WHERE id = ANY(${list(ids, 'bigint')}) AND state = 'executing'`);
  return rows.map((row) => row.id);
}
