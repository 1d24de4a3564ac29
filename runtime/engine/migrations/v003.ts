/**
 * Workflows and batches. A step with deps starts `held` with a count of the deps it waits for;
 * each edge says which job waits for which. A batch row counts its jobs' outcomes, so that each
 * callback is inserted once, in the transaction of the outcome that made its condition true.
 */
export function v003(schema: string): string[] {
  return [
    `ALTER TABLE ${schema}.jobs
  ADD COLUMN workflow_id uuid,
  ADD COLUMN workflow_step text CHECK (length(workflow_step) BETWEEN 1 AND 255),
  ADD COLUMN deps_remaining integer,
  ADD COLUMN batch_id uuid,
  ADD COLUMN batch_callback text`,
    // Step names are unique within a workflow, however many appends race.
    `CREATE UNIQUE INDEX jobs_workflow_idx ON ${schema}.jobs (workflow_id, workflow_step) WHERE workflow_id IS NOT NULL`,
    `CREATE INDEX jobs_batch_idx ON ${schema}.jobs (batch_id) WHERE batch_id IS NOT NULL`,
    // The workflow sweeper walks held steps only.
    `CREATE INDEX jobs_held_idx ON ${schema}.jobs (id) WHERE state = 'held'`,
    `CREATE TABLE ${schema}.workflows (
  id uuid PRIMARY KEY,
  name text,
  inserted_at timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE TABLE ${schema}.workflow_deps (
  dep_id bigint NOT NULL,
  job_id bigint NOT NULL,
  dep_step text NOT NULL,
  ignore smallint NOT NULL DEFAULT 0,
  waiting_delay integer NOT NULL CHECK (waiting_delay >= 0),
  waiting_limit integer NOT NULL CHECK (waiting_limit >= 0),
  PRIMARY KEY (dep_id, job_id)
)`,
    `CREATE INDEX workflow_deps_job_idx ON ${schema}.workflow_deps (job_id)`,
    `CREATE TABLE ${schema}.batches (
  id uuid PRIMARY KEY,
  name text,
  callback jsonb,
  callbacks smallint NOT NULL DEFAULT 0,
  fired smallint NOT NULL DEFAULT 0,
  last_fired smallint NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 0,
  attempted integer NOT NULL DEFAULT 0,
  completed integer NOT NULL DEFAULT 0,
  discarded integer NOT NULL DEFAULT 0,
  cancelled integer NOT NULL DEFAULT 0,
  retryable integer NOT NULL DEFAULT 0,
  inserted_at timestamptz NOT NULL DEFAULT now()
)`,
  ];
}
