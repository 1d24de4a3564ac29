import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { logText, waitFor } from '../support/wait.js';
import { rawJobs } from './support.js';

// A rolling key rotation used to cancel jobs for good: a node with only the old key A cancelled
// every job sealed with the new key B (`KobanEncryptionError … not among …'s keys`), and a node
// with [B, A] started later ran none of them. A job whose key a node lacks now goes back to the
// queue, as one of an unknown worker does, for a node that has the key.

const key = () => randomBytes(32).toString('base64');
/** The keys the next Koban.start reads: each node resolves them once, at start. */
const ring = { current: key(), previous: key() };
const ran: { node: string; secret: string }[] = [];

class RotatedWorker {
  async process(job: Job<{ secret: string }>) {
    ran.push({ node: job.attemptedBy.at(-1)!, secret: job.args.secret });
  }
}
defineWorker(RotatedWorker, {
  queue: 'rotated',
  encrypted: { keys: [() => ring.current, () => ring.previous] },
});

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

describe('a rolling key rotation', () => {
  it('gives back jobs sealed with a key the node lacks, and a node with the key runs them', async () => {
    const keyA = key();
    const keyB = key();
    ring.current = keyA;
    const warnings: string[] = [];
    const old = await startKoban({
      database: url,
      node: 'old',
      queues: { rotated: 5 },
      workers: [RotatedWorker],
      logger: { info() {}, warn: (details, message) => warnings.push(logText(details, message)), error() {} },
    });
    // A node already rotated inserts the jobs, sealed with B.
    ring.current = keyB;
    ring.previous = keyA;
    const inserter = await startKoban({
      database: url,
      node: 'inserter',
      queues: {},
      workers: [RotatedWorker],
    });
    const secrets = Array.from({ length: 10 }, (_, index) => `secret-${index}`);
    await inserter.insertAll(secrets.map((secret) => newJob(RotatedWorker, { secret })));

    const givenBack = await waitFor('every job given back by the old node', async () => {
      const rows = await rawJobs(url, 'RotatedWorker');
      return rows.every((row) => row.errors.some((entry) => entry.error.includes('KobanUnknownKeyError')))
        ? rows
        : null;
    });
    for (const row of givenBack) {
      expect(['scheduled', 'available', 'executing']).toContain(row.state);
      expect(row.attempt).toBe(0);
      expect(row.errors[0]!.error).toContain('gave the job back to the queue');
    }
    expect(ran).toEqual([]);
    expect(warnings.some((line) => line.includes('KobanUnknownKeyError') || line.includes('not among'))).toBe(
      true,
    );

    // The new node has [B, A] and replaces the old one: the jobs wait for it, none is lost.
    await old.stop();
    await startKoban({ database: url, node: 'new', queues: { rotated: 5 }, workers: [RotatedWorker] });
    const done = await waitFor(
      'every job completed',
      async () => {
        const rows = await rawJobs(url, 'RotatedWorker');
        return rows.every((row) => row.state === 'completed') ? rows : null;
      },
      60_000,
    );
    expect(done).toHaveLength(10);
    expect(ran.map((entry) => entry.secret).sort()).toEqual([...secrets].sort());
    expect(new Set(ran.map((entry) => entry.node))).toEqual(new Set(['new']));
    for (const row of done) expect(row.attempt).toBe(1);
  });
});
