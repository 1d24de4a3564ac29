import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type InsertedJob, type Job, Koban, newJob } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';
import { exec, rawJobs } from './support.js';

class RaceWorker {
  async process(_job: Job<{ key: string; n?: number }>) {}
}
defineWorker(RaceWorker, { queue: 'races', unique: { period: 60 } });

class RaceReplaceWorker {
  async process(_job: Job<{ key: string }>) {}
}
defineWorker(RaceReplaceWorker, {
  queue: 'races',
  unique: { period: 'infinity', states: 'incomplete', replace: { scheduled: ['scheduledAt'] } },
});

let url: string;
/** Ten nodes, each with its own connection pool: inserts really race on the server. */
let nodes: Koban[];

beforeAll(async () => {
  url = await freshDatabase();
  nodes = await Promise.all(
    Array.from({ length: 10 }, () =>
      Koban.start({
        database: url,
        queues: {},
        logger: quietLogger,
        poolSize: 5,
        workers: [RaceWorker, RaceReplaceWorker],
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
});

const rowsWithKey = async (worker: string, key: string) =>
  (await rawJobs(url, worker)).filter((row) => (row.args as { key: string }).key === key);

/** Fires `count` inserts at once, spread over the ten nodes. */
function race<T>(count: number, insert: (node: Koban, index: number) => Promise<T>): Promise<T[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) => insert(nodes[index % nodes.length]!, index)),
  );
}

function expectOneWinner(results: readonly InsertedJob[]) {
  const winners = results.filter((job) => !job.conflict);
  expect(winners).toHaveLength(1);
  expect(results.filter((job) => job.conflict)).toHaveLength(results.length - 1);
  expect(new Set(results.map((job) => job.id))).toEqual(new Set([winners[0]!.id]));
}

describe('unique inserts racing on the server', () => {
  it('50 concurrent inserts over 10 connections pools leave exactly one job and 49 conflicts', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `same-${round}`;
      const results = await race(50, (node) => node.insert(newJob(RaceWorker, { key })));
      expectOneWinner(results);
      expect(await rowsWithKey('RaceWorker', key)).toHaveLength(1);
    }
  });

  it('concurrent insertAll calls with overlapping keys in different orders leave one job per key', async () => {
    const keys = Array.from({ length: 30 }, (_, index) => `bulk-${index}`);
    const results = await race(10, (node, index) => {
      const order = index % 2 === 0 ? keys : [...keys].reverse();
      return node.insertAll(order.map((key) => newJob(RaceWorker, { key })));
    });
    const byKey = new Map<string, InsertedJob[]>();
    for (const jobs of results) {
      for (const job of jobs) {
        const key = (job.args as { key: string }).key;
        byKey.set(key, [...(byKey.get(key) ?? []), job]);
      }
    }
    expect(byKey.size).toBe(30);
    for (const [key, jobs] of byKey) {
      expect(jobs).toHaveLength(10);
      expectOneWinner(jobs);
      expect(await rowsWithKey('RaceWorker', key)).toHaveLength(1);
    }
  });

  it('replace under races: one job, and each conflicting insert sees its own scheduledAt written', async () => {
    const key = 'replace';
    const base = Date.now() + 3600_000;
    const times = Array.from({ length: 40 }, (_, index) => new Date(base + index * 1000));
    const results = await race(40, (node, index) =>
      node.insert(newJob(RaceReplaceWorker, { key }, { scheduledAt: times[index]! })),
    );
    expectOneWinner(results);
    results.forEach((job, index) => {
      // DO UPDATE … RETURNING gives back the row as this insert left it.
      expect(job.scheduledAt.getTime()).toBe(times[index]!.getTime());
      expect(job.state).toBe('scheduled');
    });
    const [row] = await rowsWithKey('RaceReplaceWorker', key);
    expect(times.map((time) => time.getTime())).toContain(row!.scheduled_at.getTime());
  });

  it('a holder past its period lets exactly one of many racing inserts in', async () => {
    const key = 'expiring';
    const [old] = await Promise.all([nodes[0]!.insert(newJob(RaceWorker, { key }))]);
    await exec(url, "UPDATE koban.jobs SET inserted_at = now() - interval '2 minutes' WHERE id = $1", [
      old!.id,
    ]);
    const results = await race(30, (node) => node.insert(newJob(RaceWorker, { key })));
    expectOneWinner(results);
    expect(results[0]!.id).not.toBe(old!.id);
    const rows = await rowsWithKey('RaceWorker', key);
    expect(rows).toHaveLength(2);
    expect(rows.find((row) => row.id === old!.id)!.unique_key).toBeNull();
  });

  it('never reports a conflict without a job while holders complete and new inserts race', async () => {
    const key = 'churn';
    for (let round = 0; round < 10; round++) {
      const results = await race(20, (node) =>
        node.insert(newJob(RaceWorker, { key, n: 1 }, { unique: { states: 'incomplete' } })),
      );
      expectOneWinner(results);
      // Completing the holder frees the key for the next round ('incomplete' states).
      await exec(url, "UPDATE koban.jobs SET state = 'completed', completed_at = now() WHERE id = $1", [
        results[0]!.id,
      ]);
    }
    const rows = await rowsWithKey('RaceWorker', key);
    expect(rows).toHaveLength(10);
  });
});
