import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';
import { pruneHistory } from './history.js';

/** Which finished jobs a rule is for: any of queue, worker and final state, at least one. */
export interface PruneMatch {
  readonly queue?: string | null;
  readonly worker?: string | null;
  readonly state?: 'completed' | 'cancelled' | 'discarded' | null;
}

/** A retention rule as stored: seconds to keep the jobs it matches, or null to keep them. */
export interface StoredPruneRule {
  readonly queue: string | null;
  readonly worker: string | null;
  readonly state: 'completed' | 'cancelled' | 'discarded' | null;
  readonly maxAge: number | null;
  readonly updatedAt: string;
}

/** A job takes the rule that matches it most closely: a worker counts most, then a queue, then a state. */
const rankSql = `(CASE WHEN r.worker IS NULL THEN 0 ELSE 4 END + CASE WHEN r.queue IS NULL THEN 0 ELSE 2 END + CASE WHEN r.state IS NULL THEN 0 ELSE 1 END)`;

/** Seconds that stand for "kept for good" in age arithmetic: 68 years. */
const forever = 2_147_483_647;

export function listPruneRules({ database, schema }: EngineContext): Promise<StoredPruneRule[]> {
  return database.query<StoredPruneRule>(sql`
    SELECT r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt"
    FROM ${sql.raw(schema)}.prune_rules r
    ORDER BY ${sql.raw(rankSql)} DESC, r.worker NULLS LAST, r.queue NULLS LAST, r.state NULLS LAST`);
}

/** Adds the rule of a match, or changes its age. */
export async function setPruneRule(
  { database, schema }: EngineContext,
  match: PruneMatch,
  maxAge: number | null,
): Promise<StoredPruneRule> {
  const [rule] = await database.query<StoredPruneRule>(sql`
    INSERT INTO ${sql.raw(schema)}.prune_rules AS r (queue, worker, state, max_age)
    VALUES (${match.queue ?? null}, ${match.worker ?? null}, ${match.state ?? null}, ${maxAge})
    ON CONFLICT ((coalesce(queue, '')), (coalesce(worker, '')), (coalesce(state, '')))
    DO UPDATE SET max_age = EXCLUDED.max_age, updated_at = now()
    RETURNING r.queue, r.worker, r.state, r.max_age AS "maxAge", r.updated_at::text AS "updatedAt"`);
  return rule!;
}

/** Removes the rule of exactly this match; false when there is none. */
export async function deletePruneRule(
  { database, schema }: EngineContext,
  match: PruneMatch,
): Promise<boolean> {
  const rows = await database.query(sql`
    DELETE FROM ${sql.raw(schema)}.prune_rules r
    WHERE r.queue IS NOT DISTINCT FROM ${match.queue ?? null}::text
      AND r.worker IS NOT DISTINCT FROM ${match.worker ?? null}::text
      AND r.state IS NOT DISTINCT FROM ${match.state ?? null}::text
    RETURNING 1`);
  return rows.length > 0;
}

/**
 * Prunes with the stored rules over `defaultMaxAge`. Whole days of the history are dropped (by
 * pruneHistory) only once every rule lets them go, that is past the longest age; a job younger
 * than that is deleted by itself once the age of its closest rule (or the default) has passed,
 * up to `limit` a run. Without rules, this is pruneHistory alone. Returns how many were pruned.
 */
export async function pruneWithRules(
  ctx: EngineContext,
  defaultMaxAge: number,
  limit: number,
): Promise<number> {
  const rules = await listPruneRules(ctx);
  if (rules.length === 0) return pruneHistory(ctx, defaultMaxAge, limit);
  const ages = [defaultMaxAge, ...rules.map((rule) => rule.maxAge ?? forever)];
  const s = sql.raw(ctx.schema);
  const shortest = Math.min(...ages);
  const rows = await ctx.database.query<{ pruned: number }>(sql`
    WITH old AS MATERIALIZED (
      SELECT h.id, h.finished_at FROM ${s}.job_history h
      WHERE h.finished_at < now() - ${shortest} * interval '1 second'
        AND h.finished_at < now() - coalesce((
          SELECT coalesce(r.max_age, ${forever}) FROM ${s}.prune_rules r
          WHERE (r.queue IS NULL OR r.queue = h.queue) AND (r.worker IS NULL OR r.worker = h.worker)
            AND (r.state IS NULL OR r.state = h.state)
          ORDER BY ${sql.raw(rankSql)} DESC LIMIT 1), ${defaultMaxAge}) * interval '1 second'
      LIMIT ${limit}
    ), pruned AS (
      DELETE FROM ${s}.job_history h USING old
      WHERE h.id = old.id AND h.finished_at = old.finished_at
      RETURNING h.id, h.workflow_id
    ), edges AS (
      DELETE FROM ${s}.workflow_deps e USING pruned p WHERE p.workflow_id IS NOT NULL AND e.job_id = p.id
    )
    SELECT count(*)::int AS pruned FROM pruned`);
  const longest = Math.max(...ages);
  const dropped = longest < forever ? await pruneHistory(ctx, longest, limit) : 0;
  return (rows[0]?.pruned ?? 0) + dropped;
}
