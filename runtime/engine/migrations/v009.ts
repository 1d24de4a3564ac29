/**
 * A workflow's context: JSON shared by its steps (`workflow({ context })`,
 * `job.workflow.getContext()`, `putContext`). Sub-workflows are steps of the same workflow, so
 * they share it.
 */
export function v009(schema: string): string[] {
  return [`ALTER TABLE ${schema}.workflows ADD COLUMN context jsonb`];
}
