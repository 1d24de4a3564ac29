import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, KobanDatabaseError, newJob } from '../../index.js';
import { adminUrl, freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Starting with the default `migrate: true` on an up-to-date schema used to need CREATE on the
// database, and failed with a raw PostgresError(42501) `permission denied for database`. A role
// with only read and write rights now starts, and a missing right is a KobanDatabaseError that
// says which grants to add.

class GrantedWorker {
  async process(_job: Job) {}
}
defineWorker(GrantedWorker, { queue: 'granted' });

const roles: string[] = [];
afterAll(async () => {
  await withSql(adminUrl(), async (sql) => {
    for (const role of roles) {
      await sql.unsafe(`DROP OWNED BY ${role} CASCADE`).catch(() => undefined);
    }
  });
});

/** A login role on a fresh, migrated database, with `grants` run for it (`ROLE` stands for its name). */
async function roleWith(grants: string): Promise<string> {
  const url = await freshDatabase();
  const role = `koban_role_${randomBytes(4).toString('hex')}`;
  roles.push(role);
  await withSql(url, async (sql) => {
    await sql.unsafe(`CREATE ROLE ${role} LOGIN`);
    await sql.unsafe(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await sql.unsafe(`REVOKE CREATE, TEMPORARY ON DATABASE ${new URL(url).pathname.slice(1)} FROM PUBLIC`);
    await sql.unsafe(grants.replaceAll('ROLE', role));
  });
  const asRole = new URL(url);
  asRole.username = role;
  return asRole.toString();
}

describe('least privilege', () => {
  it('a role with only read and write rights starts on an up-to-date schema and runs jobs', async () => {
    const url = await roleWith(`
      GRANT USAGE ON SCHEMA koban TO ROLE;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA koban TO ROLE;
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA koban TO ROLE;`);
    const koban = await Koban.start({
      database: url,
      queues: { granted: 2 },
      workers: [GrantedWorker],
      logger: quietLogger,
      pollInterval: 200,
    });
    try {
      const job = await koban.insert(newJob(GrantedWorker, {}));
      await waitFor('the job to complete', async () => (await koban.getJob(job.id))?.state === 'completed');
    } finally {
      await koban.stop();
    }
  });

  it('a role that owns the schema, without CREATE on the database, starts with migrate: true and runs jobs', async () => {
    // The schema and everything in it belong to the role, as when it ran the migrations itself.
    const url = await roleWith(`
      ALTER SCHEMA koban OWNER TO ROLE;
      DO $$
      DECLARE item record;
      BEGIN
        FOR item IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'koban' AND c.relkind IN ('r', 'p', 'v', 'S')
                      -- a sequence of a serial column follows its table
                      AND (c.relkind <> 'S' OR NOT EXISTS (
                        SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) LOOP
          EXECUTE format('ALTER %s koban.%I OWNER TO ROLE',
            CASE item.relkind WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, item.relname);
        END LOOP;
        FOR item IN SELECT p.oid::regprocedure AS routine FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'koban' LOOP
          EXECUTE format('ALTER ROUTINE %s OWNER TO ROLE', item.routine);
        END LOOP;
      END $$;`);
    const koban = await Koban.start({
      database: url,
      migrate: true,
      queues: { granted: 2 },
      workers: [GrantedWorker],
      logger: quietLogger,
      pollInterval: 200,
    });
    try {
      const job = await koban.insert(newJob(GrantedWorker, {}));
      await waitFor('the job to complete', async () => (await koban.getJob(job.id))?.state === 'completed');
    } finally {
      await koban.stop();
    }
  });

  it('a role without table rights fails with a KobanDatabaseError that names the grants', async () => {
    const url = await roleWith('GRANT USAGE ON SCHEMA koban TO ROLE;');
    const starting = Koban.start({
      database: url,
      queues: {},
      workers: [GrantedWorker],
      logger: quietLogger,
    });
    await expect(starting).rejects.toThrow(KobanDatabaseError);
    await expect(starting).rejects.toThrow(
      /lacks a right it needs \(permission denied for table \w+\).*GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA koban/,
    );
  });
});
