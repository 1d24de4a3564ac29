/**
 * The columns a finished job kept in `job_history` as of this version: every column of `jobs`
 * but the generated `unique_active` (a finished job that still guards its key stays in `jobs`,
 * under the index). Frozen with the migration: later versions add theirs in history-columns.ts.
 */
export const v004HistoryColumns = [
  'id',
  'state',
  'queue',
  'worker',
  'args',
  'meta',
  'tags',
  'errors',
  'attempt',
  'max_attempts',
  'priority',
  'inserted_at',
  'scheduled_at',
  'attempted_at',
  'completed_at',
  'cancelled_at',
  'discarded_at',
  'attempted_by',
  'unique_key',
  'unique_states',
  'recorded',
  'workflow_id',
  'workflow_step',
  'deps_remaining',
  'batch_id',
  'batch_callback',
] as const;

/**
 * Finished jobs leave the table the claim scans. `jobs` keeps the jobs that may still run (and
 * finished ones whose unique key still guards); completed, discarded and cancelled jobs move to
 * `job_history`, partitioned by the day they finished, so that the hot table stays small,
 * claims and acks touch few index entries, and pruning drops whole days instead of deleting
 * rows one by one. The ack moves completions in its own statement; a row trigger moves every
 * other job that reaches a final state (a cancel, a discard, a release that cancels a step, an
 * UPDATE by hand), in the statement that finished it. `all_jobs` reads both.
 *
 * The move of rows finished before this version is not part of the migration: the leader moves
 * them in batches (runtime/engine/history.ts), so a large table migrates online.
 */
export function v004(schema: string): string[] {
  const columns = v004HistoryColumns.join(', ');
  const values = v004HistoryColumns.map((column) => `NEW.${column}`).join(', ');
  return [
    `CREATE TABLE ${schema}.job_history (
  id bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('completed', 'discarded', 'cancelled')),
  queue text NOT NULL,
  worker text NOT NULL,
  args jsonb NOT NULL,
  meta jsonb NOT NULL,
  tags text[] NOT NULL,
  errors jsonb[] NOT NULL,
  attempt integer NOT NULL,
  max_attempts integer NOT NULL,
  priority smallint NOT NULL,
  inserted_at timestamptz NOT NULL,
  scheduled_at timestamptz NOT NULL,
  attempted_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  discarded_at timestamptz,
  attempted_by text[] NOT NULL,
  unique_key text,
  unique_states smallint,
  recorded bytea,
  workflow_id uuid,
  workflow_step text,
  deps_remaining integer,
  batch_id uuid,
  batch_callback text,
  finished_at timestamptz NOT NULL
) PARTITION BY RANGE (finished_at)`,
    `CREATE TABLE ${schema}.job_history_default PARTITION OF ${schema}.job_history DEFAULT`,
    `CREATE INDEX job_history_id_idx ON ${schema}.job_history (id)`,
    `CREATE INDEX job_history_workflow_idx ON ${schema}.job_history (workflow_id, workflow_step) WHERE workflow_id IS NOT NULL`,
    `CREATE INDEX job_history_batch_idx ON ${schema}.job_history (batch_id) WHERE batch_id IS NOT NULL`,
    `CREATE FUNCTION ${schema}.move_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${schema}.job_history (${columns}, finished_at)
  VALUES (${values}, coalesce(NEW.completed_at, NEW.cancelled_at, NEW.discarded_at, now()));
  DELETE FROM ${schema}.jobs WHERE id = NEW.id;
  RETURN NULL;
END;
$$`,
    `CREATE TRIGGER jobs_move_finished AFTER UPDATE ON ${schema}.jobs FOR EACH ROW
  WHEN (NEW.state IN ('completed', 'discarded', 'cancelled') AND NEW.unique_active IS NULL)
  EXECUTE FUNCTION ${schema}.move_finished()`,
    `CREATE VIEW ${schema}.all_jobs AS
  SELECT ${columns} FROM ${schema}.jobs
  UNION ALL
  SELECT ${columns} FROM ${schema}.job_history`,
  ];
}
