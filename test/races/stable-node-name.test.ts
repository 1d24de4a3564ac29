import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KobanLogger, newJob } from '../../index.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { logText, waitFor } from '../support/wait.js';
import { spawnNode } from './support/processes.js';
import { recordingDatabase } from './support/recording-database.js';
import { closeRecorder, HangWorker } from './support/workers.js';

// The production timers: a crashed node's jobs wait rescueAfter (60 s) for the lifeline, unless
// the node comes back under the same name, which recognises them at once.
const production = { heartbeatInterval: 5000, rescueAfter: 60_000 };
let url: string;
beforeAll(async () => {
  url = await recordingDatabase();
});
afterAll(closeRecorder);

function recordingLogger(): KobanLogger & { infos: string[]; warnings: string[] } {
  const infos: string[] = [];
  const warnings: string[] = [];
  return {
    infos,
    warnings,
    info: (details, message) => infos.push(logText(details, message)),
    warn: (details, message) => warnings.push(logText(details, message)),
    error() {},
  };
}

async function crashMidJob(node: string): Promise<string> {
  const inserter = await startKoban({ database: url, workers: [HangWorker] });
  const job = await inserter.insert(newJob(HangWorker, { hangOn: [node], untilAttempt: 1 }));
  await inserter.stop();
  const crashed = await spawnNode({ url, node, queues: { slow: 1 }, ...production });
  await waitFor(
    `the job to start on ${node}`,
    () =>
      withSql(url, async (sql) => {
        const [row] = await sql<{ runs: number }[]>`
          SELECT count(*)::int AS runs FROM public.runs WHERE job_id = ${job.id}`;
        return row!.runs === 1;
      }),
    60_000,
  );
  await crashed.kill();
  return job.id;
}

describe('a node restarted under a stable name', () => {
  it('takes the jobs its crashed process left executing back at once, not after rescueAfter', async () => {
    // Another node leads, so the restarted one's lifeline is not what rescues the job.
    const leader = await startKoban({ database: url, node: 'leader', queues: {}, ...production });
    const id = await crashMidJob('pod-a');
    expect(leader.isLeader).toBe(true);
    const logger = recordingLogger();
    const reborn = await startKoban({
      database: url,
      node: 'pod-a',
      queues: { slow: 1 },
      workers: [HangWorker],
      logger,
      ...production,
    });
    // Rescued within Koban.start, before any heartbeat of the leader (5 s), let alone rescueAfter (60 s).
    const justStarted = await reborn.getJob(id);
    expect(justStarted!.errors.map((error) => error.error)).toEqual([
      'rescued: node pod-a stopped heartbeating or restarted',
    ]);
    const done = await waitFor(
      'the orphaned job to complete on the restarted node',
      async () => {
        const job = await reborn.getJob(id);
        return job?.state === 'completed' ? job : null;
      },
      30_000,
    );
    expect(done).toMatchObject({ attempt: 2, attemptedBy: ['pod-a', 'pod-a'] });
    expect(done.errors.map((error) => error.error)).toEqual([
      'rescued: node pod-a stopped heartbeating or restarted',
    ]);
    expect(logger.infos).toContain(
      'node pod-a restarted: 1 job(s) its previous process left executing are available again',
    );
    expect(logger.warnings).toEqual([]);
    expect(reborn.isLeader).toBe(false);
  });

  it('while a node under a new name leaves them executing until rescueAfter', async () => {
    const id = await crashMidJob('pod-b');
    const other = await startKoban({
      database: url,
      node: 'pod-b-2',
      queues: { slow: 1 },
      workers: [HangWorker],
      ...production,
    });
    await new Promise((resolve) => setTimeout(resolve, production.heartbeatInterval + 1000));
    expect(await other.getJob(id)).toMatchObject({ state: 'executing', attempt: 1, attemptedBy: ['pod-b'] });
  });
});

describe('a node name shared by two live processes', () => {
  it('is reported by the process whose name was taken, once', async () => {
    const timers = { heartbeatInterval: 200, rescueAfter: 2000, blockTolerance: 1000 };
    const first = recordingLogger();
    await startKoban({ database: url, node: 'twin', queues: {}, logger: first, ...timers });
    const second = recordingLogger();
    await startKoban({ database: url, node: 'twin', queues: {}, logger: second, ...timers });
    const warning = await waitFor('the first process to warn', () => first.warnings[0], 5000);
    expect(warning).toMatch(/^node name "twin" is used by another live process too \(it started at /);
    expect(warning).toContain('Give every process its own name');
    await new Promise((resolve) => setTimeout(resolve, 5 * timers.heartbeatInterval));
    expect(first.warnings).toHaveLength(1);
  });

  it('is not reported for a process that stopped and started again under its name', async () => {
    const timers = { heartbeatInterval: 200, rescueAfter: 2000, blockTolerance: 1000 };
    const logger = recordingLogger();
    const before = await startKoban({ database: url, node: 'again', queues: {}, logger, ...timers });
    await before.stop();
    await startKoban({ database: url, node: 'again', queues: {}, logger, ...timers });
    await new Promise((resolve) => setTimeout(resolve, 5 * timers.heartbeatInterval));
    expect(logger.warnings).toEqual([]);
  });
});
