import { type SQL, sql } from 'drizzle-orm';

/**
 * The first statement of a transaction whose statements must not hang: the server cancels any
 * of them that runs past `ms` (a trigger that sleeps, a lock that is never released), and ends
 * the transaction if it sits idle past `ms` (its client gone, or its reply held back by a
 * half-open connection), so that it never holds its locks for good. `SET LOCAL`, unlike a
 * startup parameter, passes any pooler in transaction mode.
 */
export function transactionDeadline(ms: number): SQL {
  const value = `${Math.max(1, Math.ceil(ms))}ms`;
  return sql`SELECT set_config('statement_timeout', ${value}, true),
    set_config('idle_in_transaction_session_timeout', ${value}, true)`;
}
