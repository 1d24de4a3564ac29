import type { KnownCallbacks } from './batch-context.js';
import { defineWorker, defineWorkerFeature } from './registry.js';
import type { WorkerClass } from './worker.js';
import type {
  EncryptedOptions,
  RecordedOptions,
  StructuredOptions,
  WorkerOptions,
} from './worker-options.js';

/**
 * A class decorator that works both as a TC39 standard decorator `(value, context)` and as a
 * legacy `experimentalDecorators` one `(target)`: the class is the first argument either way.
 * It refuses, at compile time, a class with a `handle…` method that is not a batch callback: a
 * misspelt `handleCompleted` would otherwise never run.
 */
export type WorkerDecorator = <W extends WorkerClass>(
  target: W & KnownCallbacks<W>,
  context?: ClassDecoratorContext<W>,
) => void;

/** Marks a class as a worker. Sugar for `defineWorker(Class, options)`. */
export function Worker(options: WorkerOptions = {}): WorkerDecorator {
  return (target) => {
    defineWorker(target, options);
  };
}

/** Validates args against the type and these lists. Sugar for `defineWorker(Class, { structured })`. */
export function Structured(options: StructuredOptions = {}): WorkerDecorator {
  return (target) => {
    defineWorkerFeature(target, { structured: options }, 'Structured');
  };
}

/** Stores the value `process` returns. Sugar for `defineWorker(Class, { recorded })`. */
export function Recorded(options: RecordedOptions = {}): WorkerDecorator {
  return (target) => {
    defineWorkerFeature(target, { recorded: options }, 'Recorded');
  };
}

/** Encrypts args at rest. Sugar for `defineWorker(Class, { encrypted })`. */
export function Encrypted(options: EncryptedOptions): WorkerDecorator {
  return (target) => {
    defineWorkerFeature(target, { encrypted: options }, 'Encrypted');
  };
}
