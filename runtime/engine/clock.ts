import { sql } from 'drizzle-orm';
import type { EngineContext } from './context.js';

/** The database's clock, in epoch milliseconds: the time cron ticks and delays are reckoned in. */
export async function databaseTime({ database }: EngineContext): Promise<number> {
  const [row] = await database.query<{ now: number }>(
    sql`SELECT date_part('epoch', clock_timestamp()) * 1000 AS now`,
  );
  return Number(row!.now);
}
