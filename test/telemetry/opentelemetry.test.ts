import type { Attributes, SpanKind } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { KobanConfigError, newJob, workflow } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { spawnNodeProcess } from '../support/node-process.js';
import { waitFor } from '../support/wait.js';
import { memoryTracing, type SpanRecord, withinSpan } from './support/tracing.js';
import { TracedStep, TracedWorker } from './support/workers.js';

const nodeScript = 'test/telemetry/support/telemetry-node.ts';
const PRODUCER = 3;
const CONSUMER = 4;
const ERROR = 2;

/** A metric reader the test collects from when it wants to. */
class TestReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

describe('OpenTelemetry', () => {
  it('links each attempt, on another process, to its insert; failures carry error.type; steps link their deps', async () => {
    const url = await freshDatabase();
    const app = memoryTracing();
    const config = { url, node: 'traced-node', tracing: true };
    const node = await spawnNodeProcess(nodeScript, config);
    const koban = await startKoban({
      database: url,
      queues: {},
      workers: [TracedWorker, TracedStep],
      opentelemetry: { tracerProvider: app.tracerProvider, metrics: false },
    });
    const { ok, bad, many, steps, request } = await withinSpan(app.tracer, 'GET /orders', async (span) => ({
      request: span.spanContext(),
      ok: await koban.insert(newJob(TracedWorker, { fail: false })),
      bad: await koban.insert(newJob(TracedWorker, { fail: true })),
      many: await koban.insertAll([1, 2, 3].map(() => newJob(TracedWorker, { fail: false }))),
      steps: await koban.insertAll(
        workflow()
          .add('a', newJob(TracedStep, { step: 'a' }))
          .add('b', newJob(TracedStep, { step: 'b' }), { deps: ['a'] }),
      ),
    }));
    const ids = [ok, bad, ...many, ...steps].map((job) => job.id);
    await waitFor('every job to finish', async () => {
      const jobs = await Promise.all(ids.map((id) => koban.getJob(id)));
      return jobs.every((job) => job?.state === 'completed' || job?.state === 'discarded');
    });
    await node.stop();
    const line = node.stdout.split('\n').find((text) => text.startsWith('{"spans"'));
    const attempts = (JSON.parse(line!) as { spans: SpanRecord[] }).spans;
    const inserts = app.spans().filter((span) => span.kind === PRODUCER);

    // One PRODUCER span per insert call, children of the request.
    expect(inserts.map((span) => [span.name, span.parentSpanId, span.traceId])).toEqual(
      Array.from({ length: 4 }, () => ['send telemetry', request.spanId, request.traceId]),
    );
    expect(inserts[0]!.attributes).toEqual({
      'messaging.system': 'koban',
      'messaging.destination.name': 'telemetry',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.message.id': ok.id,
    });
    expect(inserts[2]!.attributes['messaging.batch.message_count']).toBe(3);
    const stored = await koban.getJob(ok.id);
    expect(stored!.meta.traceparent).toBe(`00-${request.traceId}-${inserts[0]!.spanId}-01`);

    // One CONSUMER span per attempt on the other process, linked to its insert, not its child.
    const attemptOf = (id: string) =>
      attempts.find((span) => span.attributes['messaging.message.id'] === id)!;
    expect(attempts.map((span) => [span.name, span.kind])).toEqual(
      Array.from({ length: 7 }, () => ['process telemetry', CONSUMER]),
    );
    expect(attemptOf(ok.id).parentSpanId).toBeUndefined();
    expect(attemptOf(ok.id)).toMatchObject({
      links: [{ traceId: request.traceId, spanId: inserts[0]!.spanId }],
      attributes: {
        'messaging.system': 'koban',
        'messaging.destination.name': 'telemetry',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.message.id': ok.id,
        'koban.worker': 'TracedWorker',
        'koban.job.attempt': 1,
        'koban.job.outcome': 'completed',
      },
    });
    expect(attemptOf(ok.id).traceId).not.toBe(request.traceId);
    expect(attemptOf(ok.id).attributes['error.type']).toBeUndefined();
    expect(attemptOf(bad.id)).toMatchObject({
      status: ERROR,
      links: [{ spanId: inserts[1]!.spanId }],
      attributes: { 'error.type': 'TypeError', 'koban.job.outcome': 'discarded' },
    });
    for (const job of many)
      expect(attemptOf(job.id).links).toEqual([{ traceId: request.traceId, spanId: inserts[2]!.spanId }]);

    // The workflow's steps: b links to its insert and to the attempt of a, the step it waited for.
    const [a, b] = steps.map((job) => attemptOf(job.id));
    expect(a!.attributes).toMatchObject({
      'koban.workflow.id': steps[0]!.workflowId,
      'koban.workflow.step': 'a',
    });
    expect(b!.links).toEqual([
      { traceId: request.traceId, spanId: inserts[3]!.spanId },
      { traceId: a!.traceId, spanId: a!.spanId, attributes: { 'koban.link': 'workflow.dep' } },
    ]);
  });

  it('makes the attempt a child of its insert on request', async () => {
    const app = memoryTracing();
    const koban = await startKoban({
      database: await freshDatabase(),
      queues: { telemetry: 1 },
      workers: [TracedWorker],
      opentelemetry: { tracerProvider: app.tracerProvider, metrics: false, attemptContext: 'parent' },
    });
    const job = await withinSpan(app.tracer, 'request', () =>
      koban.insert(newJob(TracedWorker, { fail: false })),
    );
    await waitFor('the attempt span', () => app.spans().find((span) => span.kind === CONSUMER));
    const send = app.spans().find((span) => span.kind === PRODUCER)!;
    const process = app.spans().find((span) => span.kind === CONSUMER)!;
    expect(process).toMatchObject({ traceId: send.traceId, parentSpanId: send.spanId, links: [] });
    expect(process.attributes['messaging.message.id']).toBe(job.id);
  });

  it('lets the sampler decide on the messaging attributes; a recorded attempt carries them all', async () => {
    const seen: Attributes[] = [];
    // Records every attempt, and no insert.
    const sampler: Sampler = {
      shouldSample(_context, _traceId, _name, kind: SpanKind, attributes) {
        if (kind !== CONSUMER) return { decision: SamplingDecision.NOT_RECORD };
        seen.push({ ...attributes });
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      },
      toString: () => 'attempts only',
    };
    const app = memoryTracing(sampler);
    const koban = await startKoban({
      database: await freshDatabase(),
      queues: { telemetry: 2 },
      workers: [TracedWorker],
      opentelemetry: { tracerProvider: app.tracerProvider, metrics: false },
    });
    const [ok, bad] = await koban.insertAll([
      newJob(TracedWorker, { fail: false }),
      newJob(TracedWorker, { fail: true }),
    ]);
    await waitFor('both attempt spans', () => app.spans().length === 2);
    expect(seen).toEqual(
      Array.from({ length: 2 }, () => ({
        'messaging.system': 'koban',
        'messaging.destination.name': 'telemetry',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
      })),
    );
    const attemptOf = (id: string) =>
      app.spans().find((span) => span.attributes['messaging.message.id'] === id)!;
    expect(app.spans().every((span) => span.kind === CONSUMER)).toBe(true);
    expect(attemptOf(ok!.id).attributes).toEqual({
      'messaging.system': 'koban',
      'messaging.destination.name': 'telemetry',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.message.id': ok!.id,
      'koban.worker': 'TracedWorker',
      'koban.job.attempt': 1,
      'koban.job.outcome': 'completed',
    });
    expect(attemptOf(bad!.id)).toMatchObject({
      status: ERROR,
      attributes: { 'error.type': 'TypeError', 'koban.job.outcome': 'discarded' },
    });
    // The insert was not recorded, yet its context went into the jobs, unsampled, and links them.
    const traceparent = String((await koban.getJob(ok!.id))!.meta.traceparent);
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const [, traceId, spanId] = traceparent.split('-');
    expect(attemptOf(ok!.id).links).toEqual([{ traceId, spanId }]);
  });

  it('counts sent and consumed messages and durations, and the leader gauges jobs per queue and state', async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const koban = await startKoban({
      database: await freshDatabase(),
      queues: { telemetry: 2 },
      workers: [TracedWorker],
      heartbeatInterval: 100,
      rescueAfter: 1000,
      blockTolerance: 500,
      opentelemetry: { meterProvider, tracing: false, gaugeInterval: 100 },
    });
    await koban.insertAll([
      ...[1, 2, 3].map(() => newJob(TracedWorker, { fail: false })),
      newJob(TracedWorker, { fail: true }),
    ]);
    await koban.insertAll([1, 2].map(() => newJob(TracedWorker, { fail: false }, { scheduleIn: 3600 })));
    await waitFor(
      'the four attempts',
      async () => (await koban.listJobs({ state: ['completed', 'discarded'] })).length === 4,
    );
    const points = async (name: string) => {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((found) => found.descriptor.name === name);
      return (metric?.dataPoints ?? []).map((point) => ({
        attributes: point.attributes,
        value: point.value,
      }));
    };
    expect(await points('messaging.client.sent.messages')).toEqual([
      {
        attributes: {
          'messaging.system': 'koban',
          'messaging.destination.name': 'telemetry',
          'messaging.operation.name': 'send',
        },
        value: 6,
      },
    ]);
    const consumed = await points('messaging.client.consumed.messages');
    expect(
      consumed.map(({ attributes, value }) => [
        attributes['koban.job.outcome'],
        attributes['error.type'],
        value,
      ]),
    ).toEqual([
      ['completed', undefined, 3],
      ['discarded', 'TypeError', 1],
    ]);
    const durations = await points('messaging.process.duration');
    expect(durations.map(({ value }) => (value as { count: number }).count)).toEqual([3, 1]);
    // Queue time is by queue and worker: the outcome is not known when the wait ends.
    const waits = await points('koban.job.queue.duration');
    expect(
      waits.map(({ attributes, value }) => [attributes['koban.worker'], (value as { count: number }).count]),
    ).toEqual([['TracedWorker', 4]]);
    await waitFor('the leader gauge', async () =>
      (await points('koban.jobs')).some(
        ({ attributes, value }) => attributes['koban.job.state'] === 'scheduled' && value === 2,
      ),
    );
  });

  it('refuses bad options at start, naming the option', async () => {
    await expect(
      startKoban({ database: await freshDatabase(), opentelemetry: { attemptContext: 'child' as never } }),
    ).rejects.toThrow(
      new KobanConfigError(`opentelemetry.attemptContext: expected 'link' or 'parent', got "child"`),
    );
    await expect(
      startKoban({ database: await freshDatabase(), opentelemetry: { tracerProvider: {} as never } }),
    ).rejects.toThrow(
      /^opentelemetry\.tracerProvider: expected an OpenTelemetry TracerProvider \(with getTracer\(\)\)$/,
    );
  });
});
