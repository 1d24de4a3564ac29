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
  /** The sampling-relevant attributes of each queue's attempts, built once. */
  private readonly processAttributes = new Map<string, Attributes>();
  /** The insert's link, parsed once for the many jobs of one bulk insert. */
  private readonly inserts = new InsertLinks();

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

  /**
   * Starts an attempt's CONSUMER span (none without a tracer). Synchronous but for a workflow
   * step, whose dependencies' trace contexts are read first: a promise per attempt costs a
   * context manager's hooks on every job.
   */
  start(job: ClaimedJob): Span | Promise<Span> | undefined {
    if (!this.tracer) return undefined;
    if (job.workflowId !== null && this.steps)
      return this.steps
        .depTraceparents(job.id, stepTraceparentKey)
        .then((traceparents) => this.startAttempt(job, traceparents));
    return this.startAttempt(job, noTraceparents);
  }

  private startAttempt(job: ClaimedJob, depTraceparents: readonly string[]): Span {
    const { api } = this;
    const inserted = this.inserts.read(job.meta[traceparentKey]);
    const links: Link[] = [];
    let parent: Context = api.context.active();
    if (inserted && this.options.attemptContext === 'parent')
      parent = api.trace.setSpanContext(parent, inserted.context);
    else if (inserted) links.push(inserted);
    for (const traceparent of depTraceparents) {
      const dep = parseTraceparent(traceparent);
      if (dep) links.push({ context: dep, attributes: { 'koban.link': 'workflow.dep' } });
    }
    // The sampling-relevant attributes (the same object for every attempt of a queue) go to the
    // sampler; the rest only onto a span that records, once, not through the sampler's copies.
    const span = this.tracer!.startSpan(
      `process ${job.queue}`,
      { kind: api.SpanKind.CONSUMER, links, attributes: this.samplingAttributes(job.queue) },
      parent,
    );
    if (span.isRecording()) span.setAttributes(attemptAttributes(job));
    return span;
  }

  private samplingAttributes(queue: string): Attributes {
    let attributes = this.processAttributes.get(queue);
    if (!attributes) {
      attributes = Object.freeze({
        ...destination(queue),
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
      });
      this.processAttributes.set(queue, attributes);
    }
    return attributes;
  }

  /** Runs the attempt with its span active, so that spans the worker starts are its children. */
  within<T>(span: Span, work: () => Promise<T>): Promise<T> {
    const { api } = this;
    return api.context.with(api.trace.setSpan(api.context.active(), span), work);
  }

  /**
   * Ends the attempt's span with its outcome, and records the attempt's metrics. A workflow
   * step's span context is left in its meta first, while its row still runs, for its dependents;
   * other attempts end synchronously.
   */
  end(
    span: Span | undefined,
    job: ClaimedJob,
    attempt: { readonly outcome: ProcessOutcome; readonly ack: Pick<Ack, 'state'> },
    runMs: number,
  ): Promise<void> | undefined {
    const { outcome, ack } = attempt;
    const error = outcome.kind === 'error' ? outcome.error : undefined;
    const errorType = error === undefined ? undefined : error instanceof Error ? error.name : typeof error;
    const outcomeName = ack.state === 'scheduled' ? 'snoozed' : ack.state;
    if (this.metrics) {
      const queueMs = Math.max(0, (job.attemptedAt?.getTime() ?? Date.now()) - job.scheduledAt.getTime());
      this.metrics.attempted(job.queue, job.worker, outcomeName, errorType, runMs, queueMs);
    }
    if (!span) return undefined;
    if (span.isRecording()) {
      span.setAttribute('koban.job.outcome', outcomeName);
      if (errorType) this.failed(span, error, errorType);
    }
    if (job.workflowId !== null && this.steps && this.api.isSpanContextValid(span.spanContext())) {
      return this.steps
        .storeStepTraceparent(job.id, job.attempt, stepTraceparentKey, formatTraceparent(span.spanContext()))
        .catch((stored) => span.recordException(stored as Error))
        .then(() => span.end());
    }
    span.end();
    return undefined;
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

const noTraceparents: readonly string[] = [];

/**
 * The jobs of one bulk insert, claimed together, carry one traceparent: the last one read is
 * kept, parsed, as the link every attempt shares (links are read, never changed, by the SDK).
 */
class InsertLinks {
  private traceparent: string | undefined;
  private link: Link | undefined;

  read(traceparent: unknown): Link | undefined {
    if (typeof traceparent !== 'string') return undefined;
    if (traceparent !== this.traceparent) {
      const context = parseTraceparent(traceparent);
      this.traceparent = traceparent;
      this.link = context ? { context } : undefined;
    }
    return this.link;
  }
}

/** An attempt's own attributes, beyond the sampling-relevant ones it starts with. */
function attemptAttributes(job: ClaimedJob): Attributes {
  const attributes: Attributes = {
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
