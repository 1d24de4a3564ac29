/**
 * Paused entries of `Koban.start({ cron })`: those live in each node's configuration, not in
 * `cron_entries`, so that an operator's pause reaches every node (and the nodes that start
 * later) it is kept here, by the entry's name, until it is resumed.
 */
export function v014(schema: string): string[] {
  return [
    `CREATE TABLE ${schema}.cron_pauses (
      name text PRIMARY KEY,
      paused_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}
