import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { QueueGauge } from '../engine/queue-gauges.js';

/**
 * Koban's instruments, named by the OpenTelemetry messaging conventions where they have a name:
 * messages sent (inserted) and consumed (attempts), the process duration, and Koban's own queue
 * time and gauges. The gauges report the leader's last cluster-wide count: one query per
 * interval for the whole cluster, and nothing from the other nodes, so sums over nodes are right.
 */
export class OtelMetrics {
  private readonly sent: Counter;
  private readonly consumed: Counter;
  private readonly processDuration: Histogram;
  private readonly queueDuration: Histogram;
  /** The leader's last count; undefined on the other nodes. */
  gauges: readonly QueueGauge[] | undefined;

  constructor(meter: Meter) {
    this.sent = meter.createCounter('messaging.client.sent.messages', {
      description: 'Jobs inserted',
      unit: '{message}',
    });
    this.consumed = meter.createCounter('messaging.client.consumed.messages', {
      description: 'Attempts that ended, by outcome',
      unit: '{message}',
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

  attempted(attributes: Attributes, runMs: number, queueMs: number): void {
    this.consumed.add(1, attributes);
    this.processDuration.record(runMs / 1000, attributes);
    this.queueDuration.record(queueMs / 1000, attributes);
  }
}

export function destination(queue: string): Attributes {
  return { 'messaging.system': 'koban', 'messaging.destination.name': queue };
}
