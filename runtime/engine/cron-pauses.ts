import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';

// The pauses of configured cron entries (`Koban.start({ cron })`), by name: see migrations/v014.ts.

export async function pausedCronNames({ database, schema }: EngineContext): Promise<Set<string>> {
  const rows = await database.query<{ name: string }>(
    sql`SELECT name FROM ${sql.raw(`${schema}.cron_pauses`)}`,
  );
  return new Set(rows.map((row) => row.name));
}

export async function cronPaused({ database, schema }: EngineContext, name: string): Promise<boolean> {
  const rows = await database.query<{ name: string }>(
    sql`SELECT name FROM ${sql.raw(`${schema}.cron_pauses`)} WHERE name = ${name}`,
  );
  return rows.length > 0;
}

export async function setCronPaused(
  { database, schema }: EngineContext,
  name: string,
  paused: boolean,
): Promise<void> {
  const table = sql.raw(`${schema}.cron_pauses`);
  await database.query(
    paused
      ? sql`INSERT INTO ${table} (name) VALUES (${name}) ON CONFLICT (name) DO NOTHING`
      : sql`DELETE FROM ${table} WHERE name = ${name}`,
  );
}
