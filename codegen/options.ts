import { type Decorator, Node } from 'ts-morph';
import { chunkDefinition } from '../sdk/chunk.js';
import { KobanConfigError } from '../sdk/errors.js';
import {
  checkMaxAttempts,
  checkPriority,
  checkQueueName,
  checkTags,
  checkWorkerName,
} from '../sdk/worker-options.js';
import type { KobanDecorator } from './koban-symbols.js';
import { evaluateStatic, NotStatic, type StaticValue } from './literal.js';

type StaticObject = { readonly [key: string]: StaticValue };

/** The decorator options codegen needs, read from source as plain data. */
export interface OptionsModel {
  /** The stored name: `@Worker({ name })`, else the class name. */
  readonly name: string;
  readonly worker: StaticObject;
  readonly uniqueKeys: readonly string[] | undefined;
  readonly structured: StructuredModel | undefined;
  readonly recorded: boolean;
  readonly encrypted: boolean;
  /** Source lines of options that later checks point at, by path such as `unique.keys`. */
  readonly lines: Readonly<Record<string, number>>;
}

export interface StructuredModel {
  readonly keys: readonly string[] | undefined;
  readonly required: readonly string[];
  readonly defaults: StaticObject;
}

/** A problem at a node: what is wrong and what to write instead. */
export type ReportAt = (node: Node, message: string, fix: string) => void;

const examples: Record<string, string> = {
  queue: "queue: 'imports'",
  maxAttempts: 'maxAttempts: 5',
  priority: 'priority: 1',
  tags: "tags: ['billing']",
  timeout: 'timeout: 30_000',
  name: "name: 'ImportWorker'",
  unique: "unique: { period: 60, keys: ['userId'] }",
  keys: "keys: ['userId', 'action']",
  required: "required: ['userId']",
  defaults: 'defaults: { metadata: {} }',
  limit: 'limit: 65_536',
  algorithm: "algorithm: 'aes-256-gcm'",
  chunk: "chunk: { size: 100, timeout: 1000, by: { args: ['accountId'] } }",
};

function exampleFor(path: string): string {
  const parts = path.split(/[.[]/).filter((part) => part !== '' && !part.endsWith(']'));
  const known = [...parts].reverse().find((part) => examples[part] !== undefined);
  return known ? examples[known]! : "{ queue: 'imports' }";
}

/** `@Worker` options codegen never needs, whatever their value. */
const runtimeOnlyOptions = /^options\.deadline(\.|\[|$)/;

/** Evaluates one decorator's argument, leaving unread what only the runtime needs. */
export function readDecoratorArgument(
  decorator: Decorator,
  kind: KobanDecorator,
  report: ReportAt,
): StaticObject {
  const [argument, ...extra] = decorator.getArguments();
  if (extra.length > 0)
    report(extra[0]!, `@${kind} takes one options object`, 'Pass a single object literal');
  if (!argument) return {};
  // Options only the runtime reads stay unread: `@Encrypted` keys (functions or secrets), and
  // `@Worker` deadlines, which may be a Date.
  const isOpaque = (path: string) =>
    (kind === 'Encrypted' && /^options\.keys?(\.|\[|$)/.test(path)) ||
    (kind === 'Worker' && runtimeOnlyOptions.test(path));
  try {
    const value = evaluateStatic(argument as Parameters<typeof evaluateStatic>[0], 'options', isOpaque);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as StaticObject;
    report(
      argument,
      `@${kind} options must be an object literal`,
      `Write @${kind}({ ... }) with the options in place`,
    );
  } catch (error) {
    if (!(error instanceof NotStatic)) throw error;
    const option = error.path.replace(/^options\.?/, '') || 'the options';
    report(
      error.node,
      `@${kind} option ${option} is not a literal, so npx gen can't read it without running your code`,
      `Write the value in place, for example ${exampleFor(option)}`,
    );
  }
  return {};
}

function stringList(value: StaticValue | undefined): readonly string[] | undefined | null {
  if (value === undefined) return undefined;
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : null;
}

/** Line of `path` (like `unique.keys`) inside an object literal argument, else of the decorator. */
function lineOf(decorator: Decorator, path: string): number {
  let node: Node | undefined = decorator.getArguments()[0];
  for (const part of path.split('.')) {
    if (!Node.isObjectLiteralExpression(node)) break;
    const property = node.getProperty(part);
    if (!Node.isPropertyAssignment(property)) break;
    node = property.getInitializer();
  }
  return (node ?? decorator).getStartLineNumber();
}

/** Merges the decorators of one class into the options codegen works from, checking each value. */
export function readOptions(
  className: string,
  decorators: ReadonlyMap<KobanDecorator, Decorator>,
  report: ReportAt,
): OptionsModel {
  const read = (kind: KobanDecorator) => {
    const decorator = decorators.get(kind);
    return decorator ? readDecoratorArgument(decorator, kind, report) : undefined;
  };
  const worker = read('Worker') ?? {};
  // `@Worker({ structured: { … } })` is the same option as `@Structured({ … })`.
  const inline = worker.structured;
  const inlineStructured =
    inline && typeof inline === 'object' && !Array.isArray(inline) ? (inline as StaticObject) : undefined;
  const structuredOptions = read('Structured') ?? inlineStructured;
  const recorded = read('Recorded');
  const encrypted = read('Encrypted');
  const workerDecorator = decorators.get('Worker')!;
  checkWorkerValues(worker, workerDecorator, report);
  const unique = worker.unique as StaticObject | undefined;
  const uniqueKeys = stringList(unique?.keys);
  if (uniqueKeys === null)
    report(workerDecorator, '@Worker unique.keys must be a list of args keys', `Write ${examples.keys}`);
  const structuredDecorator = decorators.get('Structured') ?? workerDecorator;
  const structured = structuredOptions && readStructured(structuredOptions, structuredDecorator, report);
  const lines: Record<string, number> = { worker: workerDecorator.getStartLineNumber() };
  if (uniqueKeys) lines['unique.keys'] = lineOf(workerDecorator, 'unique.keys');
  if (structuredOptions) {
    const prefix = decorators.has('Structured') ? '' : 'structured.';
    for (const part of ['keys', 'required', 'defaults']) {
      lines[`structured.${part}`] = lineOf(structuredDecorator, `${prefix}${part}`);
    }
  }
  const name = typeof worker.name === 'string' ? worker.name : className;
  checkStoredName(name, className, workerDecorator, report);
  return {
    name,
    worker,
    uniqueKeys: uniqueKeys ?? undefined,
    structured,
    recorded: recorded !== undefined || worker.recorded === true || typeof worker.recorded === 'object',
    encrypted: encrypted !== undefined || worker.encrypted !== undefined,
    lines,
  };
}

function readStructured(options: StaticObject, decorator: Decorator, report: ReportAt): StructuredModel {
  const keys = stringList(options.keys);
  const required = stringList(options.required);
  if (keys === null)
    report(decorator, '@Structured keys must be a list of args keys', `Write ${examples.keys}`);
  if (required === null)
    report(decorator, '@Structured required must be a list of args keys', `Write ${examples.required}`);
  const defaults = options.defaults ?? {};
  const isObject = typeof defaults === 'object' && defaults !== null && !Array.isArray(defaults);
  if (!isObject)
    report(decorator, '@Structured defaults must be an object of args values', `Write ${examples.defaults}`);
  return {
    keys: keys ?? undefined,
    required: required ?? [],
    defaults: isObject ? (defaults as StaticObject) : {},
  };
}

/**
 * The stored name as `defineWorker` checks it at run time (length, storable text), with its
 * message: a name that start would refuse fails gen instead. An empty `name` is reported below.
 */
function checkStoredName(name: string, className: string, decorator: Decorator, report: ReportAt): void {
  if (name.trim() === '') return;
  try {
    checkWorkerName(name, `worker ${className}`);
  } catch (error) {
    if (!(error instanceof KobanConfigError)) throw error;
    report(decorator, error.message, `Write ${examples.name}`);
  }
}

/** The same checks `defineWorker` makes at run time, made here so they fail before anything runs. */
function checkWorkerValues(worker: StaticObject, decorator: Decorator, report: ReportAt): void {
  const checks: [string, (value: unknown, where: string) => unknown][] = [
    ['queue', checkQueueName],
    ['maxAttempts', checkMaxAttempts],
    ['priority', checkPriority],
    ['tags', checkTags],
    ['chunk', chunkDefinition],
  ];
  for (const [option, check] of checks) {
    if (worker[option] === undefined) continue;
    try {
      check(worker[option], '@Worker');
    } catch (error) {
      if (!(error instanceof KobanConfigError)) throw error;
      report(decorator, error.message, `Write a valid value, for example ${examples[option]}`);
    }
  }
  if (worker.name !== undefined && (typeof worker.name !== 'string' || worker.name.trim() === '')) {
    report(decorator, '@Worker name must be a non-empty string', `Write ${examples.name}`);
  }
}
