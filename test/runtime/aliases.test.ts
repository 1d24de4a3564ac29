import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, KobanConfigError, newJob, workerAliases } from '../../index.js';
import { drainJobs } from '../../runtime/testing.js';
import { startKoban } from '../support/koban.js';

// Worker aliases: after a rename, jobs queued under the old stored name run as the new class.

const ran: { worker: string; n: number }[] = [];

class RenamedImport {
  async process(job: Job<{ n: number }>) {
    ran.push({ worker: job.worker, n: job.args.n });
  }
}
defineWorker(RenamedImport, { queue: 'aliases', aliases: ['LegacyImport', 'OlderImport'] });

describe('worker aliases', () => {
  it('runs jobs stored under an old name as the renamed class; new jobs store the new name', async () => {
    const koban = await startKoban({ testing: 'manual', workers: [RenamedImport] });
    await koban.db.insert(koban.tables.jobs).values([
      { worker: 'LegacyImport', queue: 'aliases', args: { n: 1 }, state: 'available' },
      { worker: 'OlderImport', queue: 'aliases', args: { n: 2 }, state: 'available' },
    ] as never);
    const fresh = await koban.insert(newJob(RenamedImport, { n: 3 }));
    expect(fresh.worker).toBe('RenamedImport');
    expect(await drainJobs(koban)).toMatchObject({ completed: 3, retryable: 0 });
    expect(ran.map((run) => run.n).sort()).toEqual([1, 2, 3]);
    expect(workerAliases(RenamedImport)).toEqual(['LegacyImport', 'OlderImport']);
  });

  it('refuses an alias that another worker holds, or its own name', () => {
    class Clash {
      async process(_job: Job<{ n: number }>) {}
    }
    expect(() => defineWorker(Clash, { aliases: ['RenamedImport'] })).toThrow(KobanConfigError);
    expect(() => defineWorker(Clash, { aliases: ['LegacyImport'] })).toThrow(
      'worker Clash: the alias "LegacyImport" is the name or alias of another worker class',
    );
    expect(() => defineWorker(Clash, { aliases: ['Clash'] })).toThrow("is the worker's own name");
    expect(() => defineWorker(Clash, { aliases: 'Old' as never })).toThrow(
      'aliases must be a list of old worker names',
    );
  });
});
