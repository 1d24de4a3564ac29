import type * as OpenTelemetryApi from '@opentelemetry/api';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { KobanConfigError } from '../../sdk/errors.js';
import { Periodic } from '../node/periodic.js';
import type { KobanPlugin } from '../plugins/plugin.js';
import { OtelMetrics } from './otel-metrics.js';
import { JobTelemetry } from './tracing.js';

/** `Koban.start({ opentelemetry })`: `true` for the defaults, or what to change. */
export interface OpenTelemetryOptions {
  /** Spans for inserts and attempts. Default true. */
  tracing?: boolean | undefined;
  /** Counters, histograms and the leader's gauges. Default true. */
  metrics?: boolean | undefined;
  /** An attempt's span is linked to its insert's (`link`, the default) or its child (`parent`). */
  attemptContext?: 'link' | 'parent' | undefined;
  /** Default: the global provider (what the OpenTelemetry SDK registers). */
  tracerProvider?: TracerProvider | undefined;
  meterProvider?: MeterProvider | undefined;
  /** Milliseconds between the leader's counts of jobs per queue and state for the gauges. Default 15000. */
  gaugeInterval?: number | undefined;
}

/** What a node runs for OpenTelemetry: the job telemetry, and the leader's gauge counter. */
export interface OpenTelemetry {
  readonly jobs: JobTelemetry;
  readonly gauges: KobanPlugin | undefined;
}

const instrumentation = 'koban';

/**
 * Loads `@opentelemetry/api` (an optional peer dependency) and builds the tracer and meter.
 * Without the option nothing is loaded, and no job pays for any of it.
 */
export async function openTelemetry(
  option: boolean | OpenTelemetryOptions | undefined,
): Promise<OpenTelemetry | undefined> {
  if (option === undefined || option === false) return undefined;
  const options = checkOptions(option === true ? {} : option);
  let api: typeof OpenTelemetryApi;
  try {
    // A CommonJS package: its names come as the namespace's, or under `default` where they are not detected.
    const loaded = (await import('@opentelemetry/api')) as unknown as typeof OpenTelemetryApi & {
      default?: typeof OpenTelemetryApi;
    };
    api = typeof loaded.trace === 'object' ? loaded : loaded.default!;
  } catch (error) {
    throw new KobanConfigError(
      'opentelemetry: the optional peer dependency @opentelemetry/api is not installed: run npm install @opentelemetry/api (and an SDK to export the data)',
      { cause: error },
    );
  }
  const tracer =
    options.tracing === false
      ? undefined
      : (options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(instrumentation);
  const meter =
    options.metrics === false
      ? undefined
      : (options.meterProvider ?? api.metrics.getMeterProvider()).getMeter(instrumentation);
  const metrics = meter ? new OtelMetrics(meter) : undefined;
  const jobs = new JobTelemetry(api, tracer, metrics, { attemptContext: options.attemptContext ?? 'link' });
  return { jobs, gauges: metrics ? gaugeCounter(metrics, options.gaugeInterval ?? 15_000) : undefined };
}

/** On the leader, counts the jobs per queue and state for the gauges; other nodes report none. */
function gaugeCounter(metrics: OtelMetrics, interval: number): KobanPlugin {
  let periodic: Periodic | undefined;
  return {
    name: 'opentelemetry gauges',
    leaderOnly: true,
    start({ engine, reportError }) {
      periodic = new Periodic(
        interval,
        async () => {
          metrics.gauges = await engine.queueGauges();
        },
        reportError,
      );
      periodic.start();
    },
    async stop() {
      await periodic?.stop();
      metrics.gauges = undefined;
    },
  };
}

function checkOptions(options: OpenTelemetryOptions): OpenTelemetryOptions {
  const fail = (message: string) => new KobanConfigError(`opentelemetry.${message}`);
  if (typeof options !== 'object' || options === null)
    throw new KobanConfigError(
      `opentelemetry: expected true, false or an options object, got ${JSON.stringify(options)}`,
    );
  for (const key of ['tracing', 'metrics'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean')
      throw fail(`${key}: expected true or false, got ${JSON.stringify(options[key])}`);
  }
  const { attemptContext, gaugeInterval } = options;
  if (attemptContext !== undefined && attemptContext !== 'link' && attemptContext !== 'parent')
    throw fail(`attemptContext: expected 'link' or 'parent', got ${JSON.stringify(attemptContext)}`);
  if (gaugeInterval !== undefined && !(Number.isFinite(gaugeInterval) && gaugeInterval > 0))
    throw fail(
      `gaugeInterval: expected a positive number of milliseconds, got ${JSON.stringify(gaugeInterval)}`,
    );
  for (const key of ['tracerProvider', 'meterProvider'] as const) {
    const provider = options[key] as unknown as Record<string, unknown> | undefined;
    const method = key === 'tracerProvider' ? 'getTracer' : 'getMeter';
    if (provider !== undefined && typeof provider?.[method] !== 'function')
      throw fail(
        `${key}: expected an OpenTelemetry ${key === 'tracerProvider' ? 'TracerProvider' : 'MeterProvider'} (with ${method}())`,
      );
  }
  return options;
}
