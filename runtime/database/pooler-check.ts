import type postgres from 'postgres';

// A pooler in transaction mode (PgBouncer `pool_mode = transaction`, Supavisor, Neon's pooled
// endpoint) hands each transaction whatever server connection is free: session state, named
// prepared statements and LISTEN do not survive from one statement to the next. Koban needs to
// be told (`pooler: 'transaction'`); this check notices when it was not.

/** How long the probe waits for a statement a direct connection answers at once. */
const probeWaitMs = 3000;

/**
 * Whether connections to the server look like pooled server sessions: a direct connection keeps
 * its backend for life, so one that reports another backend pid between two statements, or the
 * pid of a backend another connection holds in a transaction, goes through a pooler in
 * transaction (or statement) mode. `connect` opens a single-connection client; the probe opens
 * two, briefly, and closes them.
 */
export async function looksTransactionPooled(connect: () => postgres.Sql): Promise<boolean> {
  const pid = async (sql: postgres.Sql) =>
    Number((await sql.unsafe('SELECT pg_backend_pid() AS pid', [], { prepare: false }))[0]!.pid);
  const first = connect();
  const second = connect();
  try {
    const before = await pid(first);
    return await second.begin(async (held) => {
      const holding = await pid(held as unknown as postgres.Sql);
      // With the server connection `first` had now held by `second`, a pooler must give
      // `first` another one, or make it wait when its pool has no other.
      const again = pid(first);
      again.catch(() => undefined);
      const answered = await Promise.race([
        again.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), probeWaitMs).unref()),
      ]);
      if (!answered) return true;
      return holding === before || (await again) !== before;
    });
  } finally {
    await Promise.all([first.end({ timeout: 1 }), second.end({ timeout: 1 })]);
  }
}

/** What the node says at start when the database looks pooled and Koban was not told. */
export function poolerWarning(description: string): string {
  return (
    `database: ${description} looks like a connection pooler in transaction mode (two of Koban's connections ` +
    "shared one server session). Set pooler: 'transaction', so that Koban sends no named prepared statements, " +
    'and listenUrl: a direct URL for LISTEN (without it the nodes poll every pollInterval).'
  );
}
