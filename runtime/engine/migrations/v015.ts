/**
 * Retention rules of the pruner, changed at run time (`koban.pruner.set`): how long finished jobs
 * of a queue, a worker, a final state, or a combination of them, are kept; a null `max_age`
 * keeps them for good. One rule per combination; the leader's pruner reads them at each run.
 */
export function v015(schema: string): string[] {
  return [
    `CREATE TABLE ${schema}.prune_rules (
      queue text,
      worker text,
      state text CHECK (state IN ('completed', 'cancelled', 'discarded')),
      max_age integer CHECK (max_age > 0),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (queue IS NOT NULL OR worker IS NOT NULL OR state IS NOT NULL)
    )`,
    `CREATE UNIQUE INDEX prune_rules_match_idx ON ${schema}.prune_rules (coalesce(queue, ''), coalesce(worker, ''), coalesce(state, ''))`,
  ];
}
