// What OpenTelemetry costs against plain processing, one measurement per process: the same
// no-op jobs processed without it, and with spans and metrics on (the SDK's batch span
// processor and a meter provider with a reader, as an application exports them, here to nowhere).
// Usage: node <build>/bench/features/telemetry.js <process-plain|process-traced> <dbUrl> <n>
import { context } from '@opentelemetry/api';
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

class TelemetryJob {
  async process(_job: Job<{ n: number }>) {
    if (--remaining === 0) done();
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
    if (scenario !== 'process-plain' && scenario !== 'process-traced')
      throw new Error(`unknown scenario ${scenario}: process-plain or process-traced`);
    const opentelemetry = scenario === 'process-traced' ? openTelemetry() : undefined;
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
      : `no OpenTelemetry, queue limit ${queueLimit}`;
    return { ...timed, jobs: n, settings };
  }),
);
