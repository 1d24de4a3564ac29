import { Koban, type RecordedFetcher, type RecordedValue, type WorkerEntry } from 'koban';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { builderSource } from '../../templates/builder.js';
import { quietLogger, waitFor } from '../support/wait.js';
import {
  ExtractWorker,
  type ExtractWorkerResult,
  LoadWorker,
  ReportWorker,
  type ReportWorkerResult,
  workers,
} from './cases/seed/src/koban.gen.js';

/** The generated entries of the given builders only: SensitiveWorker's key needs KOBAN_KEY. */
function entriesOf(...builders: { readonly worker: unknown }[]): WorkerEntry[] {
  return builders.map((builder) => {
    const entry = workers.find((item) => item.worker === builder.worker);
    if (!entry) throw new Error('no generated entry for a builder');
    return entry;
  });
}

let koban: Koban;

beforeAll(async () => {
  koban = await Koban.start({
    queues: { pipelines: 2, reports: 1 },
    workers: entriesOf(ExtractWorker, LoadWorker, ReportWorker),
    logger: quietLogger,
    pollInterval: 200,
    stageInterval: 200,
  });
});

afterAll(() => koban?.stop());

async function completed(id: string): Promise<void> {
  const job = await waitFor(`job ${id} to finish its attempt`, async () => {
    const found = await koban.getJob(id);
    return found && !['available', 'executing'].includes(found.state) ? found : null;
  });
  expect(job.state).toBe('completed');
}

describe('generated fetchRecorded on embedded PGlite', () => {
  it('reads back what a @Recorded worker returned, typed by its result', async () => {
    const job = await koban.insert(ExtractWorker.new({ dataId: 42 }));
    await completed(job.id);
    const recorded = await ExtractWorker.fetchRecorded(koban, job);
    expectTypeOf(recorded).toEqualTypeOf<RecordedValue<ExtractWorkerResult>>();
    expectTypeOf<ExtractWorkerResult>().toEqualTypeOf<{ rows: number[] }>();
    expectTypeOf(ExtractWorker).toExtend<RecordedFetcher<{ rows: number[] }>>();
    expect(recorded).toEqual({ status: 'ok', value: { rows: [42] } });
    // By id too.
    expect(await ExtractWorker.fetchRecorded(koban, job.id)).toEqual({ status: 'ok', value: { rows: [42] } });
  });

  it('decodes with the generated result codec: a Date and a bigint come back as they were', async () => {
    const month = new Date('2025-02-01T00:00:00.000Z');
    const job = await koban.insert(ReportWorker.new({ accountId: 1, month }));
    await completed(job.id);
    const recorded = await ReportWorker.fetchRecorded(koban, job);
    expectTypeOf(recorded).toEqualTypeOf<RecordedValue<ReportWorkerResult>>();
    if (recorded.status !== 'ok') throw new Error(recorded.message);
    expect(recorded.value).toEqual({ rows: 3, total: 1234567890123456789n, generatedAt: month });
    expect(recorded.value.generatedAt).toBeInstanceOf(Date);
  });

  it("is missing for a job whose worker is not @Recorded, or that hasn't completed", async () => {
    const plain = await koban.insert(LoadWorker.new({}));
    await completed(plain.id);
    expect('fetchRecorded' in LoadWorker).toBe(false);
    // @ts-expect-error a LoadWorker job carries no ExtractWorker result: the builder's type says so
    expect(await ExtractWorker.fetchRecorded(koban, plain)).toMatchObject({
      status: 'missing',
      reason: 'not_recorded',
    });
    const later = await koban.insert(ExtractWorker.new({ dataId: 1 }, { scheduleIn: 3600 }));
    const waiting = await ExtractWorker.fetchRecorded(koban, later);
    expect(waiting).toMatchObject({ status: 'missing', reason: 'not_completed' });
    expect(waiting.status === 'missing' && waiting.message).toMatch(/ExtractWorker\) is scheduled/);
  });
});

describe('the builder template', () => {
  const names = {
    className: 'ExtractWorker',
    classAlias: 'ExtractWorkerClass',
    argsType: 'ExtractWorkerArgs',
    resultType: 'ExtractWorkerResult',
    argsCodec: 'extractWorkerArgsCodec',
    argsCheck: 'extractWorkerArgs',
    resultCodec: undefined,
    resultCheck: undefined,
    storedName: 'ExtractWorker',
  };

  it('passes no codec when a recorded worker has no result codec', () => {
    const source = builderSource(names, 'ExtractWorker.', true);
    expect(source).toContain(
      'export const ExtractWorker: JobBuilder<typeof ExtractWorkerClass> & RecordedFetcher<ExtractWorkerResult> = {',
    );
    expect(source).toContain('return koban.fetchRecorded<ExtractWorkerResult>(job);');
  });

  it('adds nothing for a worker that is not recorded', () => {
    const source = builderSource(names, 'ExtractWorker.', false);
    expect(source).toContain('export const ExtractWorker: JobBuilder<typeof ExtractWorkerClass> = {');
    expect(source).not.toContain('fetchRecorded');
  });
});
