import type { KnownCallbacks } from './batch-context.js';
import type { ChunkShaped } from './chunk.js';
import { defineWorker, defineWorkerFeature } from './registry.js';
import type { ArgsOf, WorkerClass } from './worker.js';
import type {
  ClassWithArgKeys,
  EncryptedOptions,
  RecordedOptions,
  StructuredKeyMistakes,
  StructuredOptions,
  WorkerOptionKeyMistakes,
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
export function Worker<const O extends WorkerOptions = {}>(
  options: O = {} as O,
): <W extends WorkerClass>(
  target: ClassWithArgKeys<W, WorkerOptionKeyMistakes<O, ArgsOf<W>>> & ChunkShaped<W, O> & KnownCallbacks<W>,
  context?: ClassDecoratorContext<W>,
) => void {
  return (target: WorkerClass) => {
    // The checks are in the signature above; the class itself is any worker class.
    defineWorker(target as WorkerClass & KnownCallbacks<WorkerClass>, options);
  };
}

/** Validates args against the type and these lists. Sugar for `defineWorker(Class, { structured })`. */
export function Structured<const O extends StructuredOptions = {}>(
  options: O = {} as O,
): <W extends WorkerClass>(
  target: ClassWithArgKeys<W, StructuredKeyMistakes<O, ArgsOf<W>>>,
  context?: ClassDecoratorContext<W>,
) => void {
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
