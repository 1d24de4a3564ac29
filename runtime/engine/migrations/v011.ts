/**
 * The named parts of a workflow that are not plain steps, `{ name: 'many' | 'graft' }`: a many
 * (`addMany`), whose result is the list of its members' results, and a graft (`addGraft`),
 * whose job may grow the workflow. Appends and grafts merge their own into it.
 */
export function v011(schema: string): string[] {
  return [`ALTER TABLE ${schema}.workflows ADD COLUMN kinds jsonb`];
}
