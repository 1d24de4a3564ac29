/**
 * Flow control and queues changed at run time. A queue's stored row gains its cluster-wide limits
 * (`flow`, as changed at run time over what nodes were started with) and whether it was started or
 * stopped at run time (`run`). A rate limit counts the starts that claims record in their own
 * transaction in `flow_starts`. A chain that holds on a failed link looks for discarded and
 * cancelled jobs of its queue in the history.
 */
export function v006(schema: string): string[] {
  return [
    `ALTER TABLE ${schema}.queues
  ADD COLUMN flow jsonb,
  ADD COLUMN run text CHECK (run IN ('started', 'stopped'))`,
    `CREATE TABLE ${schema}.flow_starts (
  queue text NOT NULL,
  rkey text NOT NULL,
  weight integer NOT NULL,
  started_at timestamptz NOT NULL
)`,
    `CREATE INDEX flow_starts_window_idx ON ${schema}.flow_starts (queue, started_at)`,
    `CREATE INDEX job_history_failed_idx ON ${schema}.job_history (queue, id) WHERE state IN ('discarded', 'cancelled')`,
  ];
}
