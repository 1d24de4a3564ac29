import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanValidationError, newJob } from '../../index.js';
import { performJob } from '../../runtime/testing.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { spawnNodeProcess } from '../support/node-process.js';
import { waitFor } from '../support/wait.js';
import { ProgressWorker } from './support/workers.js';

const nodeScript = 'test/telemetry/support/telemetry-node.ts';

class BadProgressWorker {
  async process(job: Job<{ value: 'infinite' | 'huge' | 'cyclic' }>) {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const values = { infinite: Number.POSITIVE_INFINITY, huge: 'x'.repeat(5000), cyclic };
    job.progress(values[job.args.value] as never);
  }
}
defineWorker(BadProgressWorker, { queue: 'bad-progress', maxAttempts: 1 });

describe('job.progress', () => {
  it('is visible to another process while the job runs, throttled, and kept once the job completes', async () => {
    const url = await freshDatabase();
    const release = join(mkdtempSync(join(tmpdir(), 'koban-progress-')), 'release');
    const config = { url, node: 'progress-node' };
    const node = await spawnNodeProcess(nodeScript, config);
    const koban = await startKoban({ database: url, queues: {}, workers: [ProgressWorker] });
    const job = await koban.insert(newJob(ProgressWorker, { release, steps: 1000 }));

    // 1,000 calls in a tight loop: the first is written at once, the last one after the interval.
    const running = await waitFor('the last progress of the loop', async () => {
      const now = await koban.getJob(job.id);
      return (now?.progress as { percent?: number } | null)?.percent === 999 ? now : undefined;
    });
    expect(running).toMatchObject({ state: 'executing', progress: { stage: 'download', percent: 999 } });

    writeFileSync(release, '');
    const done = await waitFor('the completion', async () => {
      const now = await koban.getJob(job.id);
      return now?.state === 'completed' ? now : undefined;
    });
    expect(done.progress).toEqual({ stage: 'done', percent: 100 });
    await node.stop();
    const events = node.stdout
      .split('\n')
      .filter((line) => line.startsWith('{"progress"'))
      .map((line) => (JSON.parse(line) as { progress: unknown }).progress);
    expect(events).toEqual(
      [
        { stage: 'download', percent: 0 },
        { stage: 'download', percent: 999 },
        { stage: 'done', percent: 100 },
      ].map((progress) => ({
        id: job.id,
        worker: 'ProgressWorker',
        queue: 'telemetry',
        attempt: 1,
        progress,
      })),
    );
  });

  it('refuses values that are not small JSON with a KobanValidationError, failing the attempt', async () => {
    for (const value of ['infinite', 'huge', 'cyclic'] as const) {
      const outcome = await performJob(BadProgressWorker, { value });
      expect(outcome).toMatchObject({ kind: 'error', state: 'discarded' });
      const error = (outcome as { error: unknown }).error;
      expect(error).toBeInstanceOf(KobanValidationError);
      expect((error as Error).message).toMatch(
        {
          infinite: /job\.progress \(job 0, BadProgressWorker\): expected a finite number, got Infinity/,
          huge: /job\.progress \(job 0, BadProgressWorker\): 5002 bytes as JSON, over the 4096-byte limit/,
          cyclic: /job\.progress \(job 0, BadProgressWorker\): expected a JSON value: .*circular/i,
        }[value],
      );
    }
  });
});
