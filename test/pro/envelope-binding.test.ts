import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { batch, defineWorker, type Job, newJob } from '../../index.js';
import { loadKeyRing, seal } from '../../runtime/workers/encryption.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { exec, rawJob, settled } from './support.js';

// An encrypted envelope is bound to its job: copied into another row, or over another job of the
// same worker, it fails to open there and the job is cancelled without running.

type PaymentArgs = { payee: string; cents: number };
const key = randomBytes(32).toString('base64');
const ran: { id: string; args: PaymentArgs }[] = [];

class PaymentWorker {
  async process(job: Job<PaymentArgs>) {
    ran.push({ id: job.id, args: job.args });
  }
}
defineWorker(PaymentWorker, { queue: 'payments', encrypted: { key } });

const callbacks: { batchId: string | null; args: unknown }[] = [];
class PaymentBatchWorker {
  async process(_job: Job<PaymentArgs>) {}
  async handleCompleted(job: Job<{ note: string }>) {
    callbacks.push({ batchId: job.batchId, args: job.args });
  }
}
defineWorker(PaymentBatchWorker, { queue: 'payments', encrypted: { key } });

const workers = [PaymentWorker, PaymentBatchWorker];
let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

const start = (queues: Record<string, number> = { payments: 2 }) =>
  startKoban({ database: url, queues, workers });

async function insertPayment(args: PaymentArgs) {
  const koban = await start({});
  const job = await koban.insert(newJob(PaymentWorker, args));
  await koban.stop();
  return job;
}

const envelopeOf = async (id: string) => JSON.stringify((await rawJob(url, id)).args);
const ranWith = (payee: string) => ran.filter((run) => run.args.payee === payee);

describe('an encrypted envelope is bound to its job', () => {
  it("a finished job's envelope copied into a new row is cancelled there, naming the copy", async () => {
    const original = await insertPayment({ payee: 'alice', cents: 500 });
    const koban = await start();
    expect((await settled(koban, original.id)).state).toBe('completed');
    expect(ranWith('alice')).toHaveLength(1);

    const [copy] = (await exec(
      url,
      `INSERT INTO koban.jobs (worker, queue, args) VALUES ('PaymentWorker', 'payments', $1::text::jsonb) RETURNING id::text`,
      [await envelopeOf(original.id)],
    )) as { id: string }[];
    const replayed = await settled(koban, copy!.id);
    expect(replayed.state).toBe('cancelled');
    expect(replayed.errors[0]!.error).toMatch(
      new RegExp(
        `KobanEncryptionError: the args of job ${copy!.id} \\(PaymentWorker\\) failed authentication .*written for another job or worker and copied here`,
      ),
    );
    expect(ranWith('alice')).toHaveLength(1);
  });

  it("a pending job's envelope copied over another pending job: the original runs, the overwritten one is cancelled", async () => {
    const koban = await start({});
    const source = await koban.insert(newJob(PaymentWorker, { payee: 'bob', cents: 100 }));
    const target = await koban.insert(newJob(PaymentWorker, { payee: 'carol', cents: 9_000 }));
    await koban.stop();
    await exec(
      url,
      'UPDATE koban.jobs SET args = (SELECT args FROM koban.jobs WHERE id = $1) WHERE id = $2',
      [source.id, target.id],
    );
    const node = await start();
    const [a, b] = await Promise.all([settled(node, source.id), settled(node, target.id)]);
    expect(a.state).toBe('completed');
    expect(b.state).toBe('cancelled');
    expect(b.errors[0]!.error).toMatch(/failed authentication/);
    expect(ranWith('bob')).toEqual([{ id: source.id, args: { payee: 'bob', cents: 100 } }]);
    expect(ranWith('carol')).toEqual([]);
  });

  it('an envelope written before the binding (v: 1, the worker only) still opens', async () => {
    const ring = await loadKeyRing({ key }, 'PaymentWorker');
    const sealed = seal(
      ring,
      Buffer.from(JSON.stringify({ payee: 'legacy', cents: 1 })),
      'koban:args:v1:PaymentWorker',
    );
    const envelope = {
      $koban_encrypted: {
        v: 1,
        alg: sealed.algorithm,
        kid: sealed.kid,
        iv: sealed.iv.toString('base64'),
        tag: sealed.tag!.toString('base64'),
        data: sealed.data.toString('base64'),
      },
    };
    const [row] = (await exec(
      url,
      `INSERT INTO koban.jobs (worker, queue, args) VALUES ('PaymentWorker', 'payments', $1::text::jsonb) RETURNING id::text`,
      [JSON.stringify(envelope)],
    )) as { id: string }[];
    const koban = await start();
    expect((await settled(koban, row!.id)).state).toBe('completed');
    expect(ranWith('legacy')).toEqual([{ id: row!.id, args: { payee: 'legacy', cents: 1 } }]);
  });

  it('new envelopes are version 2, and a bulk insert binds each row to its own id', async () => {
    const koban = await start({});
    const jobs = await koban.insertAll(
      ['d1', 'd2', 'd3'].map((payee) => newJob(PaymentWorker, { payee, cents: 7 })),
    );
    await koban.stop();
    for (const job of jobs) expect(JSON.parse(await envelopeOf(job.id)).$koban_encrypted.v).toBe(2);
    const node = await start();
    for (const job of jobs) expect((await settled(node, job.id)).state).toBe('completed');
    expect(
      ran
        .filter((run) => run.args.payee.startsWith('d'))
        .map((run) => run.id)
        .sort(),
    ).toEqual(jobs.map((job) => job.id).sort());
  });

  it('a unique insert that replaces the args of its holder seals them for the holder', async () => {
    const koban = await start({});
    const unique = { keys: [] as const, replace: ['args'] as const };
    const first = await koban.insert(
      newJob(PaymentWorker, { payee: 'erin', cents: 1 }, { scheduleIn: 3600 }),
      {
        unique,
      },
    );
    const second = await koban.insert(newJob(PaymentWorker, { payee: 'erin', cents: 2 }), { unique });
    expect(second).toMatchObject({ id: first.id, conflict: true, args: { payee: 'erin', cents: 2 } });
    await koban.stop();
    await exec(url, `UPDATE koban.jobs SET scheduled_at = now(), state = 'available' WHERE id = $1`, [
      first.id,
    ]);
    const node = await start();
    expect((await settled(node, first.id)).state).toBe('completed');
    expect(ranWith('erin')).toEqual([{ id: first.id, args: { payee: 'erin', cents: 2 } }]);
  });

  it("a batch's encrypted callback args open in its callback job, and not in another job", async () => {
    const koban = await start();
    const [job] = await koban.insertAll(
      batch([newJob(PaymentBatchWorker, { payee: 'frank', cents: 3 })], { callbackArgs: { note: 'sealed' } }),
    );
    const batchId = job!.batchId!;
    await waitFor('the batch callback to run', () => callbacks.find((entry) => entry.batchId === batchId));
    expect(callbacks.filter((entry) => entry.batchId === batchId)).toEqual([
      { batchId, args: { note: 'sealed' } },
    ]);
    const [stored] = (await exec(url, "SELECT callback->'args' AS args FROM koban.batches WHERE id = $1", [
      batchId,
    ])) as { args: unknown }[];
    const [copy] = (await exec(
      url,
      `INSERT INTO koban.jobs (worker, queue, args) VALUES ('PaymentBatchWorker', 'payments', $1::text::jsonb) RETURNING id::text`,
      [JSON.stringify(stored!.args)],
    )) as { id: string }[];
    const done = await settled(koban, copy!.id);
    expect(done.state).toBe('cancelled');
    expect(done.errors[0]!.error).toMatch(/failed authentication/);
  });
});
