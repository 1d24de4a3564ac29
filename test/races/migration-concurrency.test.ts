import { afterEach, describe, expect, it } from 'vitest';
import { Koban, KobanMigrationError } from '../../index.js';
import { openDatabase } from '../../runtime/database/open-database.js';
import { latestVersion } from '../../runtime/engine/migrations/index.js';
import { migrate } from '../../runtime/engine/migrator.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';

// Many processes starting at once against an empty database: migrations run under an advisory
// lock, so one applies them and the others find nothing to do. Each Koban below has a pool of
// its own, so the ten race on ten separate connections.

const started: Koban[] = [];
afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((koban) => koban.stop()));
});

const everyVersion = Array.from({ length: latestVersion }, (_, index) => ({ version: index + 1, rows: 1 }));

function versions(url: string) {
  return withSql(
    url,
    (sql) => sql<{ version: number; rows: number }[]>`
      SELECT version, count(*)::int AS rows FROM koban.schema_versions GROUP BY version ORDER BY version`,
  );
}

function start(url: string, options: { migrate?: boolean; node?: string } = {}) {
  return Koban.start({ database: url, logger: quietLogger, poolSize: 2, queues: { q: 1 }, ...options });
}

describe('migrations under concurrency', () => {
  it('lets 10 nodes start at once on an empty database, migrating it once', async () => {
    const url = await freshDatabase({ migrated: false });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, n) => start(url, { node: `node-${n}` })),
    );
    for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);

    expect(await versions(url)).toEqual(everyVersion);
    const nodes = await withSql(url, (sql) => sql`SELECT count(*)::int AS count FROM koban.nodes`);
    expect(nodes).toEqual([{ count: 10 }]);
  });

  it('has exactly one of 10 concurrent migrate() calls do the work', async () => {
    const url = await freshDatabase({ migrated: false });
    const databases = await Promise.all(Array.from({ length: 10 }, () => openDatabase(url, { poolSize: 1 })));
    try {
      const results = await Promise.all(databases.map((database) => migrate(database, 'koban')));
      const fromScratch = results.filter((result) => result.from === 0);
      expect(fromScratch).toEqual([{ from: 0, to: latestVersion }]);
      expect(results.filter((result) => result.from === latestVersion)).toHaveLength(9);
    } finally {
      await Promise.all(databases.map((database) => database.close()));
    }
    expect(await versions(url)).toEqual(everyVersion);
  });

  it('refuses a database migrated by a newer Koban, with or without migrate', async () => {
    const url = await freshDatabase();
    await withSql(
      url,
      (sql) => sql`INSERT INTO koban.schema_versions (version) VALUES (${latestVersion + 1})`,
    );
    for (const migrateAtStart of [true, false]) {
      const attempt = start(url, { migrate: migrateAtStart });
      await expect(attempt).rejects.toBeInstanceOf(KobanMigrationError);
      await expect(attempt).rejects.toThrow(
        `schema "koban" is at version ${latestVersion + 1}, newer than this Koban's ${latestVersion}`,
      );
    }
    // Nothing was applied or recorded on top of it.
    expect((await versions(url)).map((row) => row.version)).toEqual([
      ...everyVersion.map((row) => row.version),
      latestVersion + 1,
    ]);
  });

  it('with migrate: false, refuses an unmigrated database and says to run migrate', async () => {
    const url = await freshDatabase({ migrated: false });
    const attempt = start(url, { migrate: false });
    await expect(attempt).rejects.toBeInstanceOf(KobanMigrationError);
    await expect(attempt).rejects.toThrow(/is at version 0, this Koban needs \d+: run koban\.migrate\(\)/);
    const schema = await withSql(url, (sql) => sql`SELECT to_regnamespace('koban') IS NOT NULL AS exists`);
    expect(schema).toEqual([{ exists: false }]);
  });
});
