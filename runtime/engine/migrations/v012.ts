/**
 * Unique workflows and a workflow's result. `unique_key`: the key a workflow was inserted under
 * with `workflow({ unique })`; an insert under the same key finds the newest one through the
 * index, under an advisory lock of the key (runtime/workflows/unique.ts). `returns`: the steps
 * named by `.returns(...)`, whose recorded values are the workflow's result.
 */
export function v012(schema: string): string[] {
  return [
    `ALTER TABLE ${schema}.workflows ADD COLUMN unique_key text, ADD COLUMN returns text[]`,
    `CREATE INDEX workflows_unique_key_idx ON ${schema}.workflows (unique_key, inserted_at) WHERE unique_key IS NOT NULL`,
  ];
}
