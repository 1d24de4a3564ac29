import { sql } from 'drizzle-orm';
import { list } from '../database/wire.js';
import type { EngineContext } from './context.js';
import { reportTransitions } from './report.js';
import { transactionDeadline } from './transaction-deadline.js';
import { type JobTransition, transitionColumns } from './transitions.js';
import { wakeAvailable } from './wake.js';

/** What the database holds for a live node, as `reconcileHoldings` found it. */
export interface Holdings {
  /** The ids of the jobs executing under the node's name now (after the give-back). */
  readonly executing: string[];
  /** Jobs the node did not know it held, given back to their queues. */
  readonly givenBack: number;
}

/**
 * Compares the jobs executing under a live node's name with those it knows it holds (`known`).
 * A job it does not know of, claimed more than `graceMs` ago (a claim whose reply was lost, or
 * abandoned past its deadline), is given back: available again in its place, with its attempt
 * returned and the reason in its errors. The lifeline only rescues the jobs of dead nodes; this
 * frees those a live one lost. A job of a claim still on its way is younger than `graceMs`.
 */
export async function reconcileHoldings(
  ctx: EngineContext,
  node: string,
  known: readonly string[],
  graceMs: number,
): Promise<Holdings> {
  const { database, schema } = ctx;
  const s = sql.raw(schema);
  return database.transaction(async (tx) => {
    await database.query(transactionDeadline(database.statementDeadline), tx);
    const given = await database.query<JobTransition>(
      sql`
        WITH lost AS MATERIALIZED (
          SELECT j.id FROM ${s}.jobs j
          WHERE j.state = 'executing' AND j.attempted_by[cardinality(j.attempted_by)] = ${node}
            AND NOT (j.id = ANY(${list(known, 'bigint')}))
            AND j.attempted_at < now() - ${graceMs} * interval '1 millisecond'
          FOR UPDATE OF j SKIP LOCKED
        ), given AS (
          UPDATE ${s}.jobs j SET
            state = 'available',
            attempt = j.attempt - 1,
            errors = array_append(j.errors, jsonb_build_object(
              'attempt', j.attempt, 'at', now(),
              'error', 'given back: node ' || ${node}::text || ' claimed the job but never received it (a lost or abandoned claim)'))
          WHERE j.id = ANY(ARRAY(SELECT id FROM lost))
          RETURNING ${transitionColumns('j', `'executing'`, 'j.attempt + 1')}
        ), ${wakeAvailable(schema, 'given')}
        SELECT given.* FROM given, woken`,
      tx,
    );
    await reportTransitions(ctx, tx, given);
    const executing = await database.query<{ id: string }>(
      sql`
        SELECT j.id::text AS id FROM ${s}.jobs j
        WHERE j.state = 'executing' AND j.attempted_by[cardinality(j.attempted_by)] = ${node}
        ORDER BY j.id`,
      tx,
    );
    return { executing: executing.map((row) => row.id), givenBack: given.length };
  });
}
