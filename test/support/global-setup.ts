import postgres from 'postgres';
import { openDatabase } from '../../runtime/database/open-database.js';
import { migrate } from '../../runtime/engine/migrator.js';
import { adminUrl, databaseUrl, runPrefix, templateDatabase } from './databases.js';

/** Builds the migrated template database once; each test file clones it. */
export default async function setup(): Promise<() => Promise<void>> {
  const prefix = runPrefix();
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${templateDatabase()}`);
  } catch (error) {
    throw new Error(
      `The tests need PostgreSQL at ${adminUrl()} (set KOBAN_TEST_DATABASE_URL to change it). ` +
        'Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.',
      { cause: error },
    );
  } finally {
    await admin.end();
  }
  const database = await openDatabase(databaseUrl(templateDatabase()));
  await migrate(database, 'koban');
  await database.close();
  return async () => {
    const cleanup = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    const leftovers = await cleanup<{ datname: string }[]>`
      SELECT datname FROM pg_database WHERE starts_with(datname, ${prefix})`;
    for (const { datname } of leftovers)
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await cleanup.end();
  };
}
