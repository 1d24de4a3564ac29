import type * as OpenTelemetry from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api';
import type { ProcessOutcome } from '../../sdk/worker.js';
import type { Ack } from '../engine/ack.js';
import type { ClaimedJob } from '../engine/claim.js';
import type { HookedRow } from '../engine/context.js';
import { destination, type OtelMetrics } from './otel-metrics.js';
import { formatTraceparent, parseTraceparent, stepTraceparentKey, traceparentKey } from './trace-context.js';

/** What tracing needs of workflows: the trace contexts steps leave for their dependents. */
export interface StepTraces {
  depTraceparents(jobId: string, key: string): Promise<string[]>;
  storeStepTraceparent(jobId: string, attempt: number, key: string, traceparent: string): Promise<void>;
}

export interface TelemetryOptions {
  /** How an attempt's span relates to its insert's: a span link (default), or its child. */
  readonly attemptContext: 'link' | 'parent';
}

/**
 * Spans and metrics by the OpenTelemetry messaging conventions. An insert is a `send {queue}`
 * PRODUCER span (one per call, `messaging.batch.message_count` for many jobs) whose context
 * goes into each job's meta as a W3C `traceparent`; an attempt is a `process {queue}` CONSUMER
 * span, on whichever node runs it, linked to that context (the conventions' default, the one
 * shape that fits a bulk insert) or, with `attemptContext: 'parent'`, its child. A workflow
 * step's span links to the spans of the steps it depends on. Built only when the application
 * asks for OpenTelemetry: without it, none of this runs.
 */
export class JobTelemetry {
  /** Workflows, once the node has them: see `useWorkflows`. */
  private steps: StepTraces | undefined;

  constructor(
    private readonly api: typeof OpenTelemetry,
    private readonly tracer: Tracer | undefined,
    private readonly metrics: OtelMetrics | undefined,
    private readonly options: TelemetryOptions,
  ) {}

  /** Gives tracing the workflows it reads and leaves step trace contexts through. */
  useWorkflows(steps: StepTraces): void {
    this.steps = steps;
  }

  /** The engine's insert hook: a PRODUCER span around the insert, its context in each job's meta. */
  readonly insertHook = async <Row extends HookedRow, Result>(
    rows: readonly Row[],
    insert: (rows: readonly Row[]) => Promise<Result>,
  ): Promise<Result> => {
    if (this.metrics) for (const [queue, count] of countByQueue(rows)) this.metrics.inserted(queue, count);
    const { tracer, api } = this;
    if (!tracer) return insert(rows);
    const queue = rows[0]!.queue;
    const attributes: Attributes = {
      ...destination(queue),
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
    };
    if (rows.length > 1) attributes['messaging.batch.message_count'] = rows.length;
    const active = api.context.active();
    const span = tracer.startSpan(`send ${queue}`, { kind: api.SpanKind.PRODUCER, attributes }, active);
    const context = span.spanContext();
    const traced = api.isSpanContextValid(context)
      ? rows.map((row) => ({ ...row, meta: { ...row.meta, [traceparentKey]: formatTraceparent(context) } }))
      : rows;
    try {
      const result = await api.context.with(api.trace.setSpan(active, span), () => insert(traced));
      if (Array.isArray(result) && result.length === 1)
        span.setAttribute('messaging.message.id', (result[0] as { id: string }).id);
      return result;
    } catch (error) {
      this.failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  };

  /** Starts an attempt's CONSUMER span (none without a tracer). */
  async start(job: ClaimedJob): Promise<Span | undefined> {
    const { tracer, api } = this;
    if (!tracer) return undefined;
    const inserted = parseTraceparent(job.meta[traceparentKey]);
    const links: Link[] = [];
    let parent: Context = api.context.active();
    if (inserted && this.options.attemptContext === 'parent')
      parent = api.trace.setSpanContext(parent, inserted);
    else if (inserted) links.push({ context: inserted });
    if (job.workflowId !== null && this.steps) {
      for (const traceparent of await this.steps.depTraceparents(job.id, stepTraceparentKey)) {
        const dep = parseTraceparent(traceparent);
        if (dep) links.push({ context: dep, attributes: { 'koban.link': 'workflow.dep' } });
      }
    }
    return tracer.startSpan(
      `process ${job.queue}`,
      { kind: api.SpanKind.CONSUMER, links, attributes: attemptAttributes(job) },
      parent,
    );
  }

  /** Runs the attempt with its span active, so that spans the worker starts are its children. */
  within<T>(span: Span, work: () => Promise<T>): Promise<T> {
    const { api } = this;
    return api.context.with(api.trace.setSpan(api.context.active(), span), work);
  }

  /**
   * Ends the attempt's span with its outcome, and records the attempt's metrics. A workflow
   * step's span context is left in its meta first, while its row still runs, for its dependents.
   */
  async end(
    span: Span | undefined,
    job: ClaimedJob,
    attempt: { readonly outcome: ProcessOutcome; readonly ack: Pick<Ack, 'state'> },
    runMs: number,
  ): Promise<void> {
    const { outcome, ack } = attempt;
    const error = outcome.kind === 'error' ? outcome.error : undefined;
    const errorType = error === undefined ? undefined : error instanceof Error ? error.name : typeof error;
    const outcomeName = ack.state === 'scheduled' ? 'snoozed' : ack.state;
    if (this.metrics) {
      const queueMs = Math.max(0, (job.attemptedAt?.getTime() ?? Date.now()) - job.scheduledAt.getTime());
      this.metrics.attempted(job.queue, job.worker, outcomeName, errorType, runMs, queueMs);
    }
    if (!span) return;
    span.setAttribute('koban.job.outcome', outcomeName);
    if (errorType) this.failed(span, error, errorType);
    if (job.workflowId !== null && this.steps && this.api.isSpanContextValid(span.spanContext())) {
      await this.steps
        .storeStepTraceparent(job.id, job.attempt, stepTraceparentKey, formatTraceparent(span.spanContext()))
        .catch((stored) => span.recordException(stored as Error));
    }
    span.end();
  }

  private failed(span: Span, error: unknown, errorType?: string): void {
    const type = errorType ?? (error instanceof Error ? error.name : typeof error);
    span.setAttribute('error.type', type);
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: this.api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

function attemptAttributes(job: ClaimedJob): Attributes {
  // A literal, not a spread: built once per attempt on the hot path.
  const attributes: Attributes = {
    'messaging.system': 'koban',
    'messaging.destination.name': job.queue,
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
    'messaging.message.id': job.id,
    'koban.worker': job.worker,
    'koban.job.attempt': job.attempt,
  };
  if (job.workflowId !== null) attributes['koban.workflow.id'] = job.workflowId;
  if (job.workflowStep !== null) attributes['koban.workflow.step'] = job.workflowStep;
  if (job.batchId !== null) attributes['koban.batch.id'] = job.batchId;
  return attributes;
}

function countByQueue(rows: readonly HookedRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.queue, (counts.get(row.queue) ?? 0) + 1);
  return counts;
}
