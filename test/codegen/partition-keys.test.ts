import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../codegen/config.js';
import { KobanCodegenError } from '../../codegen/errors.js';
import { generate } from '../../codegen/generate.js';
import { Koban, KobanConfigError } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';
import * as seed from './cases/seed/src/koban.gen.js';
import { tempProject } from './helpers.js';

// Partition keys name args keys. A worker's own chain is typed at its decorator and checked by
// gen like `unique.keys`; a queue holds many workers, so its partition keys are checked at
// `Koban.start` against the args keys gen wrote into each worker's entry.

describe('gen and chain keys', () => {
  const project = tempProject({
    'src/chains.ts': `import { type Job, Worker } from 'koban';

@Worker({ chain: { by: { args: ['accountID'] } } })
export class ChainTypo {
  async process(_job: Job<{ accountId: string }>) {}
}

@Worker({ chain: { by: { args: [] } } })
export class EmptyChain {
  async process(_job: Job<{ accountId: string }>) {}
}

@Worker({ chain: { by: { args: ['accountId'] }, onFailure: 'hold' } })
export class GoodChain {
  async process(_job: Job<{ accountId: string }>) {}
}
`,
  });
  afterAll(() => project.remove());

  it('refuses chain.by.args keys the args type lacks, and chains that are not one, at their line', () => {
    let problems: string[] = [];
    try {
      generate(loadConfig(project.root, {}));
    } catch (error) {
      if (!(error instanceof KobanCodegenError)) throw error;
      problems = error.problems.map((problem) => `${problem.file}:${problem.line}: ${problem.message}`);
    }
    expect(problems).toEqual([
      'src/chains.ts:3: ChainTypo: chain.by.args names "accountID", which is not a key of its args (accountId)',
      'src/chains.ts:8: EmptyChain: @Worker chain.by.args: expected a non-empty list of key names, got []',
    ]);
  });
});

describe('Koban.start and the partition keys of a queue', () => {
  process.env.KOBAN_KEY ??= randomBytes(32).toString('base64');
  const start = (queues: Record<string, unknown>, database = 'postgres://127.0.0.1:1/unreachable') =>
    Koban.start({ database, logger: quietLogger, workers: seed.workers, queues: queues as never });

  it('gets the args keys of each worker from the generated entry', () => {
    const entry = seed.workers.find((item) => item.worker.name === 'ImportWorker');
    expect(entry?.argsKeys).toEqual(['importId']);
  });

  it('refuses a partition key that a worker of the queue lacks, naming the worker and its keys', async () => {
    const partitioned = { imports: { limit: 5, partition: { by: { args: ['importID'] }, limit: 2 } } };
    await expect(start(partitioned)).rejects.toThrow(KobanConfigError);
    await expect(start(partitioned)).rejects.toThrow(
      'queues.imports.partition.by.args: "importID" is not a key of the args of ImportWorker, a worker of queue imports (its args have importId)',
    );
    const rated = {
      imports: { limit: 5, rateLimit: { allowed: 5, period: 1, partition: { args: ['id'] } } },
    };
    await expect(start(rated)).rejects.toThrow('queues.imports.rateLimit.partition.args: "id" is not a key');
  });

  it('refuses to partition the queue of an @Encrypted worker by args', async () => {
    const partitioned = { secure: { limit: 5, partition: { by: { args: ['userId'] }, limit: 2 } } };
    await expect(start(partitioned)).rejects.toThrow(
      'queues.secure.partition.by.args: the args of SensitiveWorker (@Encrypted) are sealed',
    );
  });

  it('starts with keys every worker of the queue has', async () => {
    const database = await freshDatabase();
    const koban = await start(
      { imports: { limit: 5, partition: { by: { args: ['importId'] }, limit: 2 } } },
      database,
    );
    await koban.stop();
  });
});
