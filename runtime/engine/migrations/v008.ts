import { v004HistoryColumns } from './v004.js';

/** The columns of `job_history` as of this version: v004's and the job's progress. */
const columns = [...v004HistoryColumns, 'progress'];

/**
 * Telemetry. `progress`: what `job.progress(value)` stores, on unfinished and finished jobs
 * alike, so the trigger that moves finished rows and the `all_jobs` view are redefined with it.
 * `job_metrics`: the metrics history, one row per minute, node, queue and worker, written once a
 * minute by each node (runtime/engine/metrics-history.ts): outcome counts and fixed histograms
 * of run and queue time, which add up across nodes.
 */
export function v008(schema: string): string[] {
  const list = columns.join(', ');
  const values = columns.map((column) => `NEW.${column}`).join(', ');
  return [
    `ALTER TABLE ${schema}.jobs ADD COLUMN progress jsonb`,
    `ALTER TABLE ${schema}.job_history ADD COLUMN progress jsonb`,
    `CREATE OR REPLACE FUNCTION ${schema}.move_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${schema}.job_history (${list}, finished_at)
  VALUES (${values}, coalesce(NEW.completed_at, NEW.cancelled_at, NEW.discarded_at, now()));
  DELETE FROM ${schema}.jobs WHERE id = NEW.id;
  RETURN NULL;
END;
$$`,
    `DROP VIEW ${schema}.all_jobs`,
    `CREATE VIEW ${schema}.all_jobs AS
  SELECT ${list} FROM ${schema}.jobs
  UNION ALL
  SELECT ${list} FROM ${schema}.job_history`,
    `CREATE TABLE ${schema}.job_metrics (
  minute timestamptz NOT NULL,
  queue text NOT NULL,
  worker text NOT NULL,
  node text NOT NULL,
  completed integer NOT NULL DEFAULT 0,
  retried integer NOT NULL DEFAULT 0,
  discarded integer NOT NULL DEFAULT 0,
  cancelled integer NOT NULL DEFAULT 0,
  snoozed integer NOT NULL DEFAULT 0,
  run_ms double precision NOT NULL DEFAULT 0,
  queue_ms double precision NOT NULL DEFAULT 0,
  run_histogram integer[] NOT NULL,
  queue_histogram integer[] NOT NULL,
  PRIMARY KEY (minute, queue, worker, node)
)`,
  ];
}
