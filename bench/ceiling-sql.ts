// The ceiling's statements: Koban's claim and completion (runtime/engine/claim.ts and ack.ts) as
// literal SQL, so that the ceiling row drives the same SQL with no framework around it. When
// Koban's storage changes, change these with it; `--ceiling-sql` picks what a finished job does.

/** What the completion does with a finished job's row. */
export const ceilingVariants = ['keep', 'delete', 'move'] as const;
export type CeilingVariant = (typeof ceilingVariants)[number];

export const describeVariant: Record<CeilingVariant, string> = {
  keep: 'completed rows updated in place (state completed), as Koban does today',
  delete: 'completed rows deleted',
  move: 'completed rows moved to a history table (koban.ceiling_history) in the completing statement',
};

/** One statement for a whole batch of jobs `$1` (their args as JSON text). */
export const insertJobs = `
  INSERT INTO koban.jobs (queue, worker, args)
  SELECT 'bench', 'Noop', args::jsonb FROM unnest($1::text[]) AS args`;

/** Koban's claim: `$1` queue, `$2` limit, `$3` node. Id and attempt come first, for the loop. */
export const claimJobs = `
  WITH claimable AS MATERIALIZED (
    SELECT id FROM koban.jobs
    WHERE state = 'available' AND queue = $1
    ORDER BY priority, scheduled_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
  UPDATE koban.jobs j
  SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
      attempted_by = array_append(j.attempted_by, $3::text)
  WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
  RETURNING j.id, j.attempt, j.state, j.queue, j.worker, j.args, j.meta, j.tags, j.errors, j.max_attempts,
    j.priority, j.inserted_at, j.scheduled_at, j.attempted_at, j.completed_at, j.cancelled_at,
    j.discarded_at, j.attempted_by, j.workflow_id, j.workflow_step, j.batch_id, j.batch_callback,
    CASE WHEN j.workflow_id IS NULL THEN NULL
      ELSE (SELECT w.name FROM koban.workflows w WHERE w.id = j.workflow_id) END AS "workflowName",
    CASE WHEN j.batch_id IS NULL THEN NULL
      ELSE (SELECT b.name FROM koban.batches b WHERE b.id = j.batch_id) END AS "batchName"`;

/** The guard of Koban's completion: `$1` ids, `$2` the attempt they were claimed for. */
const finished = `id = ANY($1::bigint[]) AND attempt = $2 AND state = 'executing'`;

/**
 * The completion of a batch of jobs, per variant. `columns` are the jobs table's columns in
 * order, for the statement that moves rows (history has the same columns).
 */
export function completeJobs(variant: CeilingVariant, columns: readonly string[]): string {
  if (variant === 'keep')
    return `UPDATE koban.jobs SET state = 'completed', completed_at = now() WHERE ${finished}`;
  if (variant === 'delete') return `DELETE FROM koban.jobs WHERE ${finished}`;
  const values = columns.map((column) =>
    column === 'state' ? `'completed'` : column === 'completed_at' ? 'now()' : column,
  );
  return `
    WITH done AS (DELETE FROM koban.jobs WHERE ${finished} RETURNING *)
    INSERT INTO koban.ceiling_history (${columns.join(', ')}) SELECT ${values.join(', ')} FROM done`;
}

/** The history table of `move`: the jobs table's columns, its primary key, and a finished-time index. */
export const createHistory = [
  'CREATE TABLE koban.ceiling_history (LIKE koban.jobs INCLUDING DEFAULTS, PRIMARY KEY (id))',
  'CREATE INDEX ceiling_history_completed_idx ON koban.ceiling_history (completed_at)',
];

export const jobColumns = `
  SELECT column_name FROM information_schema.columns
  WHERE table_schema = 'koban' AND table_name = 'jobs' ORDER BY ordinal_position`;
