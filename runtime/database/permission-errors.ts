import { KobanDatabaseError } from '../../sdk/errors.js';

/** SQLSTATE 42501, insufficient_privilege. */
const insufficientPrivilege = '42501';

/**
 * A refused right at start, as a KobanDatabaseError that names the grants to add, or undefined
 * for any other error. The server's message says which object was refused.
 */
export function missingRightError(error: unknown, schema: string): KobanDatabaseError | undefined {
  const code = (error as { code?: unknown })?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
  if (code !== insufficientPrivilege) return undefined;
  const reason = error instanceof Error ? error.message : String(error);
  return new KobanDatabaseError(
    `Koban's database role lacks a right it needs (${reason}). With schema "${schema}" up to date, ` +
      `it needs only: GRANT USAGE ON SCHEMA ${schema} TO <role>; ` +
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO <role>; ` +
      `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO <role>. ` +
      'To create or upgrade the schema it must own it, or have CREATE on the database ' +
      '(GRANT CREATE ON DATABASE <database> TO <role>); or run the migrations once as such a role ' +
      'and start the others with migrate: false.',
    { cause: error },
  );
}
