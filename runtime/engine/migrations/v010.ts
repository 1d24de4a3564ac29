/**
 * Deadlines. `deadline_at`: the time by which a job must have started, or null; `deadline_action`:
 * what becomes of it when the time passes first (`cancel` or `discard`). Claims skip a job past its
 * deadline, and the leader ends such jobs in deadline order (runtime/engine/deadlines.ts), which
 * the partial index serves. The columns stay in `jobs`: a finished job has no deadline left to
 * keep, and the reason it missed one is in its errors.
 */
export function v010(schema: string): string[] {
  return [
    `ALTER TABLE ${schema}.jobs
  ADD COLUMN deadline_at timestamptz,
  ADD COLUMN deadline_action text CHECK (deadline_action IN ('cancel', 'discard'))`,
    `CREATE INDEX jobs_deadline_idx ON ${schema}.jobs (deadline_at) WHERE deadline_at IS NOT NULL`,
  ];
}
