import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type Sampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A span as the tests compare them: what an exporter would send, in plain JSON. */
export interface SpanRecord {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly links: { traceId: string; spanId: string; attributes?: Record<string, unknown> }[];
  readonly attributes: Record<string, unknown>;
  readonly status: number;
}

/**
 * The OpenTelemetry SDK as an application sets it up (a tracer provider and the async context
 * manager), exporting to memory.
 */
export function memoryTracing(sampler?: Sampler) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(sampler ? { sampler } : {}),
  });
  const spans = (): SpanRecord[] =>
    exporter.getFinishedSpans().map((span) => ({
      name: span.name,
      kind: span.kind,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      links: span.links.map((link) => ({
        traceId: link.context.traceId,
        spanId: link.context.spanId,
        ...(link.attributes ? { attributes: link.attributes } : {}),
      })),
      attributes: { ...span.attributes },
      status: span.status.code,
    }));
  return { tracerProvider, spans, tracer: tracerProvider.getTracer('test') };
}

/** Runs `work` inside an active span named `name` (an HTTP request, say), ended after it. */
export async function withinSpan<T>(
  tracer: ReturnType<typeof memoryTracing>['tracer'],
  name: string,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(name);
  try {
    return await context.with(trace.setSpan(context.active(), span), () => work(span));
  } finally {
    span.end();
  }
}
