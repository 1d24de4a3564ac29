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
 */
export type WorkerDecorator = <W extends WorkerClass>(target: W, context?: ClassDecoratorContext<W>) => void;

/** Marks a class as a worker. Sugar for `defineWorker(Class, options)`. */
export function Worker<const O extends WorkerOptions = {}>(
  options: O = {} as O,
): <W extends WorkerClass>(
  target: ClassWithArgKeys<W, WorkerOptionKeyMistakes<O, ArgsOf<W>>>,
  context?: ClassDecoratorContext<W>,
) => void {
  return (target) => {
    defineWorker(target, options);
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
