// Type tests, checked by `npm run typecheck` (tsc): each @ts-expect-error must meet an error.
// A chunk worker's process takes a list of jobs with its args type; `chunk` and that list go
// together, and `chunk.by.args` names keys of the args.
import { cancel, defineWorker, type Job, newJob, Worker } from '../../index.js';

interface Row {
  account: string;
  amount: number;
}

@Worker({ queue: 'rows', chunk: { size: 100, timeout: 1000, by: { args: ['account'] } } })
export class RowChunk {
  async process(jobs: Job<Row>[]) {
    const first: string | undefined = jobs[0]?.args.account;
    return new Map([[jobs[0]!, first ? undefined : cancel('no account')]]);
  }
}

export const typed = newJob(RowChunk, { account: 'a', amount: 1 });
// @ts-expect-error: the chunk's jobs carry the worker's args type
export const wrongArgs = newJob(RowChunk, { acount: 'a', amount: 1 });

// @ts-expect-error: chunk.by.args names a key the args lack
@Worker({ chunk: { size: 10, by: { args: ['acount'] } } })
export class ByTypo {
  async process(_jobs: Job<Row>[]) {}
}

// @ts-expect-error: a chunk worker's process takes a list
@Worker({ chunk: { size: 10 } })
export class SingleWithChunk {
  async process(_job: Job<Row>) {}
}

// @ts-expect-error: a list without the chunk option would get one job at a time
@Worker({ queue: 'rows' })
export class ListWithoutChunk {
  async process(_jobs: Job<Row>[]) {}
}

export class PlainChunk {
  async process(jobs: readonly Job<Row>[]) {
    return jobs.length > 0 ? undefined : cancel('empty');
  }
}
defineWorker(PlainChunk, { chunk: { size: 5, by: { meta: ['source'] } } });
// @ts-expect-error: defineWorker checks chunk.by.args against the args too
defineWorker(PlainChunk, { chunk: { by: { args: ['nope'] } } });
