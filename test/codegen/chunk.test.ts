import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../codegen/config.js';
import { KobanCodegenError } from '../../codegen/errors.js';
import { generate } from '../../codegen/generate.js';
import { tempProject } from './helpers.js';

// gen reads a chunk worker's args from the jobs of its list, checks the chunk option as
// defineWorker does, and refuses a process whose shape does not match the option.

function problemsOf(root: string): string[] {
  try {
    generate(loadConfig(root, {}));
    return [];
  } catch (error) {
    if (!(error instanceof KobanCodegenError)) throw error;
    return error.problems.map((problem) => `${problem.file}:${problem.line}: ${problem.message}`);
  }
}

describe('gen and chunk workers', () => {
  const good = tempProject({
    'src/workers.ts': `import { cancel, type Job, Recorded, Worker } from 'koban';

@Worker({ queue: 'rows', chunk: { size: 100, timeout: 500, by: { args: ['account'] } } })
export class RowChunk {
  async process(_jobs: readonly Job<{ account: string; amount: number }>[]) {}
}

@Worker({ queue: 'rows', chunk: { size: 10 } })
@Recorded()
export class TotalChunk {
  async process(jobs: Job<{ amount: number }>[]) {
    return new Map(jobs.map((job) => [job, job.args.amount < 0 ? cancel('negative') : job.args.amount === 0 ? new Error('zero') : { total: job.args.amount, at: new Date() }]));
  }
}
`,
  });
  const bad = tempProject({
    'src/workers.ts': `import { type Job, Worker } from 'koban';

@Worker({ chunk: { size: 0 } })
export class ZeroChunk {
  async process(_jobs: Job<{ n: number }>[]) {}
}

@Worker({ chunk: { size: 10 } })
export class OneJobChunk {
  async process(_job: Job<{ n: number }>) {}
}

@Worker({ queue: 'rows' })
export class ListWithoutChunk {
  async process(_jobs: Job<{ n: number }>[]) {}
}
`,
  });
  afterAll(() => {
    good.remove();
    bad.remove();
  });

  it('types the builder by the args of the listed jobs, and the result by the values of the map', () => {
    const generated = generate(loadConfig(good.root, {}));
    expect(generated.workers).toBe(2);
    // One job's result: the map's values less outcomes and errors, with its Date kept by the codec.
    expect(generated.text).toContain("output['total'] = checkNumber(input['total']");
    expect(generated.text).toContain("output['at'] = checkDate(input['at']");
    expect(generated.text).toContain('result: totalChunkResultCodec');
    expect(generated.text).toContain('args.account: expected string');
    expect(generated.text).toContain('args.amount: expected number');
  });

  it('refuses a bad chunk option and a process that does not fit it', () => {
    const problems = problemsOf(bad.root);
    expect(problems).toContain(
      'src/workers.ts:3: ZeroChunk: @Worker: chunk.size must be an integer from 1 to 10000, got 0',
    );
    expect(problems).toContain(
      'src/workers.ts:10: OneJobChunk: a chunk worker (@Worker({ chunk })) gets a list of jobs, but process takes one',
    );
    expect(problems).toContain(
      'src/workers.ts:15: ListWithoutChunk: process takes a list of jobs, but only a chunk worker gets one',
    );
  });
});
