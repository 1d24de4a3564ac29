/**
 * A job guards its unique key only while its state is one of unique_states (a bitmask in
 * jobStates order). Deriving this in a generated column keeps every state change, including ones
 * made by hand in SQL, consistent with the unique index. Its first test ends the work for jobs
 * without a key, which most jobs are.
 */
export const uniqueActiveExpression = `CASE WHEN unique_key IS NULL THEN NULL WHEN unique_states & (CASE state
  WHEN 'available' THEN 1 WHEN 'scheduled' THEN 2 WHEN 'executing' THEN 4 WHEN 'retryable' THEN 8
  WHEN 'completed' THEN 16 WHEN 'discarded' THEN 32 WHEN 'cancelled' THEN 64 WHEN 'held' THEN 128
END) <> 0 THEN unique_key END`;

/** The job table, its hot-path indexes, and the tables for nodes, leadership and queue state. */
export function v001(schema: string): string[] {
  return [
    `CREATE TABLE ${schema}.jobs (
  id bigserial PRIMARY KEY,
  state text NOT NULL DEFAULT 'available' CHECK (state IN
    ('available', 'scheduled', 'executing', 'retryable', 'completed', 'discarded', 'cancelled', 'held')),
  queue text NOT NULL DEFAULT 'default' CHECK (length(queue) BETWEEN 1 AND 128),
  worker text NOT NULL CHECK (length(worker) BETWEEN 1 AND 255),
  args jsonb NOT NULL DEFAULT '{}',
  meta jsonb NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  errors jsonb[] NOT NULL DEFAULT '{}',
  attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  max_attempts integer NOT NULL DEFAULT 20 CHECK (max_attempts > 0),
  priority smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
  inserted_at timestamptz NOT NULL DEFAULT now(),
  scheduled_at timestamptz NOT NULL DEFAULT now(),
  attempted_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  discarded_at timestamptz,
  attempted_by text[] NOT NULL DEFAULT '{}',
  unique_key text,
  unique_states smallint,
  unique_active text GENERATED ALWAYS AS (${uniqueActiveExpression}) STORED
)`,
    // The fetch path reads only this small partial index.
    `CREATE INDEX jobs_fetch_idx ON ${schema}.jobs (queue, priority, scheduled_at, id) WHERE state = 'available'`,
    `CREATE INDEX jobs_staging_idx ON ${schema}.jobs (scheduled_at) WHERE state IN ('scheduled', 'retryable')`,
    `CREATE INDEX jobs_executing_idx ON ${schema}.jobs (id) WHERE state = 'executing'`,
    `CREATE INDEX jobs_finished_idx ON ${schema}.jobs (coalesce(completed_at, cancelled_at, discarded_at))
  WHERE state IN ('completed', 'cancelled', 'discarded')`,
    `CREATE UNIQUE INDEX jobs_unique_idx ON ${schema}.jobs (unique_active) WHERE unique_active IS NOT NULL`,
    `CREATE TABLE ${schema}.nodes (
  name text PRIMARY KEY,
  queues text[] NOT NULL DEFAULT '{}',
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE TABLE ${schema}.leaders (
  name text PRIMARY KEY,
  node text NOT NULL,
  expires_at timestamptz NOT NULL
)`,
    `CREATE TABLE ${schema}.queues (
  name text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  "limit" integer CHECK ("limit" > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
)`,
    // Wakes idle producers once per inserting statement, not once per job.
    `CREATE FUNCTION ${schema}.notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${schema}_insert', queue) FROM (SELECT DISTINCT queue FROM new_jobs WHERE state = 'available') q;
  RETURN NULL;
END;
$$`,
    `CREATE TRIGGER jobs_notify_inserted AFTER INSERT ON ${schema}.jobs
  REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.notify_inserted()`,
  ];
}
