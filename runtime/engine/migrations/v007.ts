/**
 * What the operator's view reads. Each node reports in its heartbeat what it runs (its queues
 * with their limits, paused state and running counts, and its cron entries), so that any
 * process, one that runs nothing included, sees the whole cluster. The history gets the indexes
 * the job search pages through newest first by queue and by state; the hot `jobs` table gets
 * none, so claims and acks pay nothing for the search.
 */
export function v007(schema: string): string[] {
  return [
    `ALTER TABLE ${schema}.nodes ADD COLUMN report jsonb NOT NULL DEFAULT '{}'`,
    `CREATE INDEX job_history_queue_idx ON ${schema}.job_history (queue, id)`,
    `CREATE INDEX job_history_state_idx ON ${schema}.job_history (state, id)`,
  ];
}
