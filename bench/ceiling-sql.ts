// The ceiling's statements: Koban's claim and completion (runtime/engine/claim.ts and ack.ts) as
// literal SQL, so that the ceiling row drives the same SQL with no framework around it. When
// Koban's storage changes, change these with it; `--ceiling-sql` picks what a finished job does.

/** What the completion does with a finished job's row. */
export const ceilingVariants = ['keep', 'delete', 'move'] as const;
export type CeilingVariant = (typeof ceilingVariants)[number];

export const describeVariant: Record<CeilingVariant, string> = {
  keep: 'completed rows updated in place (state completed), as Koban did before its history table',
  delete: 'completed rows deleted, as Koban does with history: false',
  move: "completed rows moved to the history (koban.job_history, or koban.ceiling_history on a build without one) in the completing statement, as Koban's ack does",
};

/** One statement for a whole batch of jobs `$1` (their args as JSON text). */
export const insertJobs = `
  INSERT INTO koban.jobs (queue, worker, args)
  SELECT 'bench', 'Noop', args::jsonb FROM unnest($1::text[]) AS args`;

/** Koban's claim (its lean row): `$1` queue, `$2` limit, `$3` node. Id and attempt come first, for the loop. */
export const claimJobs = `
  WITH claimable AS MATERIALIZED (
    SELECT id FROM koban.jobs
    WHERE state = 'available' AND queue = $1
    ORDER BY priority, scheduled_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED), claimed AS (
    UPDATE koban.jobs j
    SET state = 'executing', attempt = j.attempt + 1, attempted_at = now(),
        attempted_by = array_append(j.attempted_by, $3::text)
    WHERE j.id = ANY(ARRAY(SELECT id FROM claimable))
    RETURNING j.id, j.queue, j.worker, j.args, CASE WHEN j.meta = '{}' THEN NULL ELSE j.meta END AS meta,
      CASE WHEN cardinality(j.tags) = 0 THEN NULL ELSE to_json(j.tags) END AS tags,
      CASE WHEN cardinality(j.errors) = 0 THEN NULL ELSE to_json(j.errors) END AS errors,
      j.attempt, j.max_attempts, j.priority, j.inserted_at, j.scheduled_at, j.attempted_at,
      CASE WHEN cardinality(j.attempted_by) = 1 THEN NULL ELSE to_json(j.attempted_by) END AS attempted_by, j.workflow_id, j.workflow_step, j.batch_id,
      j.batch_callback, j.unique_states,
      CASE WHEN j.workflow_id IS NULL THEN NULL
        ELSE (SELECT w.name FROM koban.workflows w WHERE w.id = j.workflow_id) END AS workflow_name,
      CASE WHEN j.batch_id IS NULL THEN NULL
        ELSE (SELECT b.name FROM koban.batches b WHERE b.id = j.batch_id) END AS batch_name)
  SELECT id::text AS id, attempt, queue, worker, args, meta, tags, errors, max_attempts, priority,
    date_part('epoch', inserted_at) * 1000,
    CASE WHEN scheduled_at = inserted_at THEN NULL ELSE date_part('epoch', scheduled_at) * 1000 END,
    date_part('epoch', attempted_at) * 1000, attempted_by, workflow_id, workflow_step, batch_id,
    batch_callback, workflow_name, batch_name, unique_states
  FROM claimed c ORDER BY c.priority, c.scheduled_at, c.id`;

/** The guard of Koban's completion: `$1` ids, `$2` the attempt they were claimed for. */
const finished = `id = ANY($1::bigint[]) AND attempt = $2 AND state = 'executing'`;

/** Where `move` puts finished rows: the table and its columns in order (`finished_at` last, if it has one). */
export interface HistoryTarget {
  readonly table: string;
  readonly columns: readonly string[];
}

/** The completion of a batch of jobs, per variant. */
export function completeJobs(variant: CeilingVariant, history: HistoryTarget): string {
  if (variant === 'keep')
    return `UPDATE koban.jobs SET state = 'completed', completed_at = now() WHERE ${finished}`;
  if (variant === 'delete') return `DELETE FROM koban.jobs WHERE ${finished}`;
  const values = history.columns.map((column) =>
    column === 'state'
      ? `'completed'`
      : column === 'completed_at' || column === 'finished_at'
        ? 'now()'
        : column,
  );
  return `
    WITH done AS (DELETE FROM koban.jobs WHERE ${finished} RETURNING *)
    INSERT INTO ${history.table} (${history.columns.join(', ')}) SELECT ${values.join(', ')} FROM done`;
}

/** Koban's history table, when the build under test has one (its migration v004 and later). */
export const hasJobHistory = `SELECT to_regclass('koban.job_history') IS NOT NULL AS found`;

/**
 * For `keep` on a build with a history: the trigger that would move each completed row is off,
 * so the rows stay as they did before.
 */
export const keepRowsInPlace = 'ALTER TABLE koban.jobs DISABLE TRIGGER jobs_move_finished';

/** The history table of `move` on a build without one: the jobs table's columns and its primary key. */
export const createHistory = [
  'CREATE TABLE koban.ceiling_history (LIKE koban.jobs INCLUDING DEFAULTS, PRIMARY KEY (id))',
  'CREATE INDEX ceiling_history_completed_idx ON koban.ceiling_history (completed_at)',
];

/** The columns of a table of the koban schema, in order; generated ones left out. */
export const tableColumns = `
  SELECT column_name FROM information_schema.columns
  WHERE table_schema = 'koban' AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`;
