/**
 * The value a `@Recorded` worker's `process` returned, stored when the job completes (see
 * runtime/recorded-value.ts for the format). Not among the columns the fetch path reads.
 */
export function v002(schema: string): string[] {
  return [`ALTER TABLE ${schema}.jobs ADD COLUMN recorded bytea`];
}
