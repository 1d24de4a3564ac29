import type { SpanContext } from '@opentelemetry/api';

// The W3C trace context (https://www.w3.org/TR/trace-context/) a job carries in its meta:
// `traceparent` is `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. Written and read here
// rather than through the application's propagator: the job's meta is Koban's own carrier, and
// the insert and the attempt may run on nodes configured differently.

/** The meta key of the insert's trace context. */
export const traceparentKey = 'traceparent';
/** The meta key a workflow step's attempt leaves its own trace context under, for the steps that depend on it. */
export const stepTraceparentKey = 'stepTraceparent';

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The span context a traceparent names, as a remote one; undefined for anything else. */
export function parseTraceparent(value: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = traceparentPattern.exec(value);
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  };
}
