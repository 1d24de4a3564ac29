/**
 * Cron entries stored in the database, changed at run time (`koban.cron`). `last_tick` is the
 * newest tick whose job was inserted: the claim of a tick moves it forward under the row's lock,
 * so a tick is inserted once however many nodes fire it, and a guaranteed entry knows which tick
 * it missed while no node ran. `changed_at` is when the schedule last changed (insert, update,
 * resume): a guaranteed entry catches up only ticks after it.
 */
export function v005(schema: string): string[] {
  return [
    `CREATE TABLE ${schema}.cron_entries (
  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
  expression text NOT NULL,
  timezone text,
  worker text NOT NULL,
  args jsonb NOT NULL DEFAULT '{}',
  options jsonb NOT NULL DEFAULT '{}',
  paused boolean NOT NULL DEFAULT false,
  guaranteed boolean NOT NULL DEFAULT false,
  last_tick timestamptz,
  changed_at timestamptz NOT NULL DEFAULT now(),
  inserted_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`,
  ];
}
