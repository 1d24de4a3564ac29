import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePostgres } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DrizzleDatabase, defineWorker, type Job, type Koban, newJob, workflow } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { logText, waitFor } from '../support/wait.js';

const processed = new Set<string>();

class TxWorker {
  async process(job: Job<{ label: string }>) {
    processed.add(job.args.label);
  }
}
defineWorker(TxWorker, { queue: 'tx' });

class Rollback extends Error {}

let url: string;
let client: postgres.Sql;
const pglites: PGlite[] = [];
const appClients: { end(): Promise<unknown> }[] = [];

beforeAll(async () => {
  url = await freshDatabase();
  client = postgres(url, { max: 4, onnotice: () => {} });
});

afterAll(async () => {
  await client?.end();
  for (const pglite of pglites) await pglite.close();
  for (const app of appClients) await app.end();
});

async function appTable(db: DrizzleDatabase) {
  await db.execute(
    sql`CREATE TABLE IF NOT EXISTS public.orders (id serial PRIMARY KEY, label text NOT NULL)`,
  );
}

/** Rows of a drizzle `execute`: an array on postgres-js, `{ rows }` on PGlite. */
function rowsOf(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows;
}

async function orderCount(db: Pick<DrizzleDatabase, 'execute'>, label: string): Promise<number> {
  const result = await db.execute(sql`SELECT count(*)::int AS n FROM public.orders WHERE label = ${label}`);
  return Number(rowsOf(result)[0]!.n);
}

/** The same checks for every way of getting a Drizzle database to Koban. */
function transactionSuite(setup: () => Promise<{ koban: Koban; db: DrizzleDatabase }>) {
  it('insert in a committed transaction: the job exists with the app row and runs', async () => {
    const { koban, db } = await setup();
    const label = `commit-${Math.random()}`;
    const job = await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO public.orders (label) VALUES (${label})`);
      return koban.insert(newJob(TxWorker, { label }), { tx });
    });
    expect(await orderCount(db, label)).toBe(1);
    await waitFor(
      `job ${job.id} to complete`,
      async () => (await koban.getJob(job.id))?.state === 'completed',
    );
    expect(processed.has(label)).toBe(true);
  });

  it('insert in a rolled-back transaction: no job, no app row', async () => {
    const { koban, db } = await setup();
    const label = `rollback-${Math.random()}`;
    let id: string | undefined;
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO public.orders (label) VALUES (${label})`);
        const job = await koban.insert(newJob(TxWorker, { label }), { tx });
        id = job.id;
        // The job is there inside the transaction, beside the application's row.
        expect(
          rowsOf(await tx.execute(sql`SELECT id FROM koban.all_jobs WHERE id = ${job.id}`)),
        ).toHaveLength(1);
        expect(await orderCount(tx, label)).toBe(1);
        throw new Rollback('changed my mind');
      }),
    ).rejects.toThrow(Rollback);
    expect(id).toBeDefined();
    expect(await koban.getJob(id!)).toBeNull();
    expect(await orderCount(db, label)).toBe(0);
    const all = await koban.listJobs({ worker: 'TxWorker', limit: 1000 });
    expect(all.filter((job) => (job.args as { label?: string }).label === label)).toEqual([]);
    expect(processed.has(label)).toBe(false);
  });

  it('insertAll in a committed transaction: every job exists and runs', async () => {
    const { koban, db } = await setup();
    const labels = [1, 2, 3].map((n) => `all-commit-${n}-${Math.random()}`);
    const jobs = await db.transaction((tx) =>
      koban.insertAll(
        labels.map((label) => newJob(TxWorker, { label })),
        { tx, chunkSize: 2 },
      ),
    );
    expect(jobs).toHaveLength(3);
    for (const job of jobs) {
      await waitFor(
        `job ${job.id} to complete`,
        async () => (await koban.getJob(job.id))?.state === 'completed',
      );
    }
    expect(labels.every((label) => processed.has(label))).toBe(true);
  });

  it('a unique insert and a workflow in a committed transaction: one job per key, steps released', async () => {
    const { koban, db } = await setup();
    const label = `unique-${Math.random()}`;
    const unique = { period: 60, keys: ['label'] } as const;
    const [first, second, steps] = await db.transaction(async (tx) => [
      await koban.insert(newJob(TxWorker, { label }), { tx, unique }),
      await koban.insert(newJob(TxWorker, { label }), { tx, unique }),
      await koban.insertAll(
        workflow()
          .add('a', newJob(TxWorker, { label: `${label}-a` }))
          .add('b', newJob(TxWorker, { label: `${label}-b` }), { deps: ['a'] }),
        { tx },
      ),
    ]);
    expect(second.id).toBe(first.id);
    expect(second.conflict).toBe(true);
    for (const job of [first, ...steps]) {
      await waitFor(
        `job ${job.id} to complete`,
        async () => (await koban.getJob(job.id))?.state === 'completed',
      );
    }
    expect(processed.has(`${label}-b`)).toBe(true);
  });

  it('insertAll in a rolled-back transaction: no jobs', async () => {
    const { koban, db } = await setup();
    const labels = [1, 2, 3].map((n) => `all-rollback-${n}-${Math.random()}`);
    let ids: string[] = [];
    await expect(
      db.transaction(async (tx) => {
        const jobs = await koban.insertAll(
          labels.map((label) => newJob(TxWorker, { label })),
          { tx, chunkSize: 2 },
        );
        ids = jobs.map((job) => job.id);
        throw new Rollback('no');
      }),
    ).rejects.toThrow(Rollback);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(await koban.getJob(id)).toBeNull();
    expect(labels.some((label) => processed.has(label))).toBe(false);
  });
}

describe('on PostgreSQL, through koban.db', () => {
  transactionSuite(async () => {
    const koban = await startKoban({ database: url, queues: { tx: 2 } });
    await appTable(koban.db);
    return { koban, db: koban.db };
  });

  it('does not run a job before the transaction that inserted it commits', async () => {
    const koban = await startKoban({ database: url, queues: { tx: 2 } });
    const label = `slow-commit-${Math.random()}`;
    const job = await koban.db.transaction(async (tx) => {
      const inserted = await koban.insert(newJob(TxWorker, { label }), { tx });
      // Several poll intervals pass while the transaction is open.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(processed.has(label)).toBe(false);
      return inserted;
    });
    await waitFor(
      `job ${job.id} to complete`,
      async () => (await koban.getJob(job.id))?.state === 'completed',
    );
  });
});

describe('on PostgreSQL, through an application-owned drizzle postgres-js instance', () => {
  transactionSuite(async () => {
    const db = drizzlePostgres({ client });
    const koban = await startKoban({ database: db, queues: { tx: 2 } });
    await appTable(db);
    return { koban, db };
  });

  it('leaves the application client open when Koban stops', async () => {
    const db = drizzlePostgres({ client });
    const koban = await startKoban({ database: db, queues: { tx: 2 } });
    await koban.stop();
    const rows = await client`SELECT 1 AS one`;
    expect(rows[0]?.one).toBe(1);
  });
});

describe('on PGlite, through a drizzle pglite instance', { timeout: 180_000 }, () => {
  let db: DrizzleDatabase | undefined;
  transactionSuite(async () => {
    if (!db) {
      const pglite = new PGlite();
      pglites.push(pglite);
      db = drizzlePglite({ client: pglite });
      await appTable(db);
    }
    const koban = await startKoban({ database: db, queues: { tx: 2 } });
    return { koban, db };
  });
});

// Koban started with a URL (its own connections), and the application's own database for its
// transactions, on every client an application may have: Koban's statements need nothing of
// the client (no array types, no parsers), so { tx } works in all of them.
describe("on PostgreSQL, Koban on a URL and { tx } from the application's own client", () => {
  const appClient = (make: () => DrizzleDatabase) => async () => {
    const koban = await startKoban({ database: url, queues: { tx: 2 } });
    const db = make();
    await appTable(db);
    return { koban, db };
  };

  describe("postgres.js with fetch_types: false (the README's advice for a client you pass in)", () => {
    transactionSuite(
      appClient(() => {
        const bare = postgres(url, { max: 2, onnotice: () => {}, fetch_types: false });
        appClients.push(bare);
        return drizzlePostgres({ client: bare });
      }),
    );
  });

  describe('postgres.js with its default options', () => {
    transactionSuite(
      appClient(() => {
        const plain = postgres(url, { max: 2, onnotice: () => {} });
        appClients.push(plain);
        return drizzlePostgres({ client: plain });
      }),
    );
  });

  describe('postgres.js with prepare: false and transform: postgres.camel', () => {
    transactionSuite(
      appClient(() => {
        const camel = postgres(url, {
          max: 2,
          onnotice: () => {},
          prepare: false,
          transform: postgres.camel,
        });
        appClients.push(camel);
        return drizzlePostgres({ client: camel });
      }),
    );
  });

  describe('node-postgres through drizzle-orm/node-postgres', () => {
    transactionSuite(
      appClient(() => {
        const pool = new pg.Pool({ connectionString: url, max: 2 });
        appClients.push(pool);
        return drizzleNodePostgres({ client: pool }) as unknown as DrizzleDatabase;
      }),
    );
  });
});

describe('a client the application gives Koban', () => {
  it('is used as it is: its parsers, serializers and methods are not changed', async () => {
    const given = postgres(url, { max: 2, onnotice: () => {}, fetch_types: false });
    appClients.push(given);
    const db = drizzlePostgres({ client: given });
    const options = given.options as unknown as Record<string, Record<string, unknown>>;
    const before = {
      parsers: { ...options.parsers },
      serializers: { ...options.serializers },
      unsafe: given.unsafe,
      onclose: (given.options as unknown as { onclose?: unknown }).onclose,
    };
    const koban = await startKoban({ database: db, queues: { tx: 2 } });
    const label = `given-${Math.random()}`;
    const job = await koban.insert(newJob(TxWorker, { label }));
    await waitFor(
      `job ${job.id} to complete`,
      async () => (await koban.getJob(job.id))?.state === 'completed',
    );
    await db.transaction((tx) => koban.insert(newJob(TxWorker, { label: `${label}-tx` }), { tx }));
    expect({ ...options.parsers }).toEqual(before.parsers);
    expect({ ...options.serializers }).toEqual(before.serializers);
    expect(given.unsafe).toBe(before.unsafe);
    expect((given.options as unknown as { onclose?: unknown }).onclose).toBe(before.onclose);
  });
});

describe("the application's own postgres.js client", () => {
  it('prints no NOTICE while Koban migrates a fresh database, runs jobs and prunes', async () => {
    const notices: unknown[] = [];
    const fresh = await freshDatabase({ migrated: false });
    const own = postgres(fresh, { max: 3, onnotice: (notice) => notices.push(notice) });
    appClients.push(own);
    const koban = await startKoban({
      database: drizzlePostgres({ client: own }),
      queues: { tx: 2 },
      prune: { maxAge: 1, interval: 200 },
    });
    const job = await koban.insert(newJob(TxWorker, { label: `notice-${Math.random()}` }));
    await waitFor(
      `job ${job.id} to complete`,
      async () => (await koban.getJob(job.id))?.state === 'completed',
    );
    await new Promise((resolve) => setTimeout(resolve, 800)); // the pruner runs a few times
    await koban.stop();
    // A second start on the migrated schema: every IF NOT EXISTS finds its object.
    await (await startKoban({ database: drizzlePostgres({ client: own }), queues: {} })).stop();
    expect(notices).toEqual([]);
  });
});

describe('settings Koban needs on a given client', () => {
  it('warns at start when a given postgres.js client has a single connection', async () => {
    const warnings: string[] = [];
    const single = postgres(url, { max: 1, onnotice: () => {} });
    appClients.push(single);
    const logger = {
      info() {},
      error() {},
      warn: (details: unknown, message?: string) => warnings.push(logText(details, message)),
    };
    await startKoban({ database: drizzlePostgres({ client: single }), queues: {}, logger });
    expect(warnings.filter((warning) => warning.includes('max: 1 connection'))).toHaveLength(1);
    const pooled = postgres(url, { max: 3, onnotice: () => {} });
    appClients.push(pooled);
    warnings.length = 0;
    await startKoban({ database: drizzlePostgres({ client: pooled }), queues: {}, logger });
    expect(warnings).toEqual([]);
  });
});
