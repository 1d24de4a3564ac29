import { type SQL, sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import { type ClaimedJob, claim } from './claim.js';
import type { EngineContext } from './context.js';
import { beforeDeadline } from './deadlines.js';

/**
 * The jobs a chunk gathers: of one queue, stored under one of a worker's names, whose listed args
 * and meta values equal the chunk's (as JSON, compared as jsonb: `1` and `1.0` are one value).
 */
export interface ChunkGroup {
  readonly queue: string;
  readonly workers: readonly string[];
  readonly args: readonly string[];
  readonly meta: readonly string[];
  /** The values of `args`, then `meta`, as a JSON array; a missing key is null. */
  readonly values: string;
}

/**
 * Claims up to `limit` available jobs of a chunk's group for this node, in the queue's order and
 * with `FOR UPDATE SKIP LOCKED` like every claim: a job is in one chunk only, on one node.
 */
export function claimChunkJobs(
  ctx: EngineContext,
  group: ChunkGroup,
  limit: number,
  node: string,
): Promise<ClaimedJob[]> {
  return claim(
    ctx,
    sql`
      SELECT id FROM ${sql.raw(ctx.schema)}.jobs j
      WHERE state = 'available' AND queue = ${group.queue} AND worker = ANY(${list(group.workers, 'text')})
        AND ${beforeDeadline('j')} ${sameValues(group)}
      ORDER BY priority, scheduled_at, id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`,
    node,
  );
}

function sameValues({ args, meta, values }: ChunkGroup): SQL {
  if (args.length === 0 && meta.length === 0) return sql``;
  const paths = [
    ...args.map((key) => sql`j.args -> ${key}::text`),
    ...meta.map((key) => sql`j.meta -> ${key}::text`),
  ];
  return sql`AND jsonb_build_array(${sql.join(paths, sql`, `)}) = ${values}::jsonb`;
}
