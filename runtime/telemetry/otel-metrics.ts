import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';

/** The attempts of one queue, worker, outcome and error type: attributes built once, a running count. */
interface AttemptSeries {
  readonly queue: string;
  readonly worker: string;
  readonly outcome: string;
  readonly errorType: string | undefined;
  readonly attributes: Attributes;
  readonly queueAttributes: Attributes;
  count: number;
}

import type { QueueGauge } from '../engine/queue-gauges.js';

/**
 * Koban's instruments, named by the OpenTelemetry messaging conventions where they have a name:
 * messages sent (inserted) and consumed (attempts), the process duration, and Koban's own queue
 * time and gauges. The gauges report the leader's last cluster-wide count: one query per
 * interval for the whole cluster, and nothing from the other nodes, so sums over nodes are right.
 */
export class OtelMetrics {
  private readonly sent: Counter;
  /** By queue, worker, outcome and error type: the SDK hashes attributes on every record, so counts are kept here and observed. */
  private readonly series = new Map<string, AttemptSeries>();
  /** The series of the last attempt: the next one is most often of the same. */
  private last: AttemptSeries | undefined;
  private readonly processDuration: Histogram;
  private readonly queueDuration: Histogram;
  /** The leader's last count; undefined on the other nodes. */
  gauges: readonly QueueGauge[] | undefined;

  constructor(meter: Meter) {
    this.sent = meter.createCounter('messaging.client.sent.messages', {
      description: 'Jobs inserted',
      unit: '{message}',
    });
    const consumed = meter.createObservableCounter('messaging.client.consumed.messages', {
      description: 'Attempts that ended, by outcome',
      unit: '{message}',
    });
    consumed.addCallback((result) => {
      for (const series of this.series.values()) result.observe(series.count, series.attributes);
    });
    this.processDuration = meter.createHistogram('messaging.process.duration', {
      description: 'How long attempts ran',
      unit: 's',
    });
    this.queueDuration = meter.createHistogram('koban.job.queue.duration', {
      description: 'How long jobs waited from due to the start of an attempt',
      unit: 's',
    });
    const jobs = meter.createObservableGauge('koban.jobs', {
      description: 'Unfinished jobs per queue and state, cluster-wide (reported by the leader)',
      unit: '{job}',
    });
    const oldest = meter.createObservableGauge('koban.queue.oldest_available.age', {
      description: 'How long the oldest available job of a queue has been due (reported by the leader)',
      unit: 's',
    });
    jobs.addCallback((result) => {
      for (const gauge of this.gauges ?? [])
        result.observe(gauge.count, { ...destination(gauge.queue), 'koban.job.state': gauge.state });
    });
    oldest.addCallback((result) => {
      for (const gauge of this.gauges ?? [])
        if (gauge.oldestAvailableMs !== null)
          result.observe(gauge.oldestAvailableMs / 1000, destination(gauge.queue));
    });
  }

  inserted(queue: string, count: number): void {
    this.sent.add(count, { ...destination(queue), 'messaging.operation.name': 'send' });
  }

  attempted(
    queue: string,
    worker: string,
    outcome: string,
    errorType: string | undefined,
    runMs: number,
    queueMs: number,
  ): void {
    let series = this.last;
    if (
      series?.queue !== queue ||
      series.worker !== worker ||
      series.outcome !== outcome ||
      series.errorType !== errorType
    )
      series = this.seriesOf(queue, worker, outcome, errorType);
    series.count++;
    this.processDuration.record(runMs / 1000, series.attributes);
    this.queueDuration.record(queueMs / 1000, series.queueAttributes);
  }

  private seriesOf(queue: string, worker: string, outcome: string, errorType: string | undefined) {
    const key = `${queue}\u0000${worker}\u0000${outcome}\u0000${errorType ?? ''}`;
    let series = this.series.get(key);
    if (!series) {
      const queueAttributes: Attributes = {
        'messaging.system': 'koban',
        'messaging.destination.name': queue,
        'messaging.operation.name': 'process',
        'koban.worker': worker,
      };
      const attributes: Attributes = { ...queueAttributes, 'koban.job.outcome': outcome };
      if (errorType !== undefined) attributes['error.type'] = errorType;
      series = { queue, worker, outcome, errorType, attributes, queueAttributes, count: 0 };
      this.series.set(key, series);
    }
    this.last = series;
    return series;
  }
}

export function destination(queue: string): Attributes {
  return { 'messaging.system': 'koban', 'messaging.destination.name': queue };
}
