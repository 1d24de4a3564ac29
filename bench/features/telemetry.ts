// What OpenTelemetry costs against plain processing, one measurement per process: the same
// no-op jobs processed without it, and with spans and metrics on (the SDK's batch span
// processor and a meter provider with a reader, as an application exports them, here to nowhere).
// A third case makes the SDK's own share visible: Koban's telemetry off, and each job making the
// SDK calls an attempt makes (a CONSUMER span with its link and attributes, active around the
// work, and two histogram records) in its own code.
// Usage: node <build>/bench/features/telemetry.js <process-plain|process-traced|process-sdk-calls> <dbUrl> <n>
import {
  type Attributes,
  context,
  type Histogram,
  type Link,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Job, Koban as KobanType } from '../../index.js';
import { loadKoban, quietLogger as logger } from '../koban-dist.js';
import { childMain } from '../report.js';
import { queueLimit, timeWindow, withSql } from './window.js';

const { Koban, defineWorker, newJob } = await loadKoban();

let done: () => void = () => {};
let remaining = 0;

/** The SDK calls of one attempt, made by the job itself (the `process-sdk-calls` case). */
interface SdkCalls {
  readonly tracer: Tracer;
  readonly processDuration: Histogram;
  readonly queueDuration: Histogram;
}
let sdkCalls: SdkCalls | undefined;

const link: Link = {
  context: {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
  },
};
const processAttributes: Attributes = {
  'messaging.system': 'koban',
  'messaging.destination.name': 'bench',
  'messaging.operation.name': 'process',
  'messaging.operation.type': 'process',
};
const queueAttributes: Attributes = {
  'messaging.system': 'koban',
  'messaging.destination.name': 'bench',
  'messaging.operation.name': 'process',
  'koban.worker': 'TelemetryJob',
};
const durationAttributes: Attributes = { ...queueAttributes, 'koban.job.outcome': 'completed' };

const finish = async () => {
  if (--remaining === 0) done();
};

class TelemetryJob {
  async process(job: Job<{ n: number }>) {
    if (!sdkCalls) return finish();
    const started = performance.now();
    const span = sdkCalls.tracer.startSpan(
      'process bench',
      { kind: SpanKind.CONSUMER, links: [link], attributes: processAttributes },
      context.active(),
    );
    span.setAttributes({
      'messaging.message.id': job.id,
      'koban.worker': 'TelemetryJob',
      'koban.job.attempt': 1,
    });
    await context.with(trace.setSpan(context.active(), span), finish);
    span.setAttribute('koban.job.outcome', 'completed');
    span.end();
    sdkCalls.processDuration.record((performance.now() - started) / 1000, durationAttributes);
    sdkCalls.queueDuration.record(0.001, queueAttributes);
  }
}
defineWorker(TelemetryJob, { queue: 'bench' });

/** Spans are batched and exported, as in production; the export goes nowhere. */
const nowhere: SpanExporter = {
  export: (_spans, callback) => callback({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

class DroppingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

function openTelemetry() {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(nowhere)] });
  const reader = new DroppingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  setInterval(() => void reader.collect(), 1000).unref();
  return { tracerProvider, meterProvider };
}

childMain(({ scenario, url, n }) =>
  withSql(url, async (sql) => {
    if (scenario !== 'process-plain' && scenario !== 'process-traced' && scenario !== 'process-sdk-calls')
      throw new Error(`unknown scenario ${scenario}: process-plain, process-traced or process-sdk-calls`);
    const opentelemetry = scenario === 'process-traced' ? openTelemetry() : undefined;
    if (scenario === 'process-sdk-calls') {
      const { tracerProvider, meterProvider } = openTelemetry();
      const meter = meterProvider.getMeter('bench');
      sdkCalls = {
        tracer: tracerProvider.getTracer('bench'),
        processDuration: meter.createHistogram('messaging.process.duration', { unit: 's' }),
        queueDuration: meter.createHistogram('koban.job.queue.duration', { unit: 's' }),
      };
    }
    const config = { database: url, workers: [TelemetryJob], logger, opentelemetry };
    const inserter = await Koban.start({ ...config, queues: {} });
    await inserter.insertAll(Array.from({ length: n }, (_, i) => newJob(TelemetryJob, { n: i })));
    await inserter.stop();
    await sql`ANALYZE`;
    remaining = n;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    let koban: KobanType | undefined;
    const timed = await timeWindow(sql, n, async () => {
      koban = await Koban.start({ ...config, queues: { bench: queueLimit } });
      await finished;
    });
    await koban?.stop();
    const settings = opentelemetry
      ? `spans (batch span processor) and metrics on, queue limit ${queueLimit}`
      : sdkCalls
        ? `Koban's OpenTelemetry off, each job making an attempt's SDK calls, queue limit ${queueLimit}`
        : `no OpenTelemetry, queue limit ${queueLimit}`;
    return { ...timed, jobs: n, settings };
  }),
);
