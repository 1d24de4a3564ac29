import type { ValidationIssue } from '../../sdk/errors.js';
import { unstorableText } from '../../sdk/storable-text.js';

/**
 * The deepest nesting of arrays and objects Koban stores. Deeper values overflow the stack of the
 * code that walks them (here, JSON.stringify, codecs) long before PostgreSQL's own limit.
 */
export const maxJsonDepth = 1000;

/**
 * Lists every value that would not survive a JSON round trip unchanged. Without a generated codec,
 * args are stored as JSON, so a Date or a Map would reach `process` as something else.
 */
export function jsonIssues(
  value: unknown,
  path: string,
  seen = new Set<object>(),
  depth = 0,
): ValidationIssue[] {
  switch (typeof value) {
    case 'string':
      return storableString(value) ? [] : [{ path, message: unstorable }];
    case 'boolean':
      return [];
    case 'number':
      return Number.isFinite(value)
        ? []
        : [{ path, message: `${value} is not valid JSON; use a finite number` }];
    case 'bigint':
      return [{ path, message: `bigint is not JSON; ${codecHint(path, 'bigint', 'a string')}` }];
    case 'undefined':
      return [{ path, message: 'undefined is not JSON; leave the key out or use null' }];
    case 'function':
    case 'symbol':
      return [{ path, message: `a ${typeof value} is not JSON` }];
  }
  if (value === null) return [];
  const object = value as object;
  if (seen.has(object)) return [{ path, message: 'a circular reference is not JSON' }];
  if (depth >= maxJsonDepth) return [tooDeep(path)];
  if (Array.isArray(object)) {
    seen.add(object);
    const issues = object.flatMap((item, index) => jsonIssues(item, `${path}[${index}]`, seen, depth + 1));
    seen.delete(object);
    return issues;
  }
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = prototype?.constructor?.name ?? 'object';
    const hint = kind === 'Date' ? `; ${codecHint(path, 'Date', 'an ISO string')}` : '';
    return [{ path, message: `a ${kind} instance is not plain JSON${hint}` }];
  }
  seen.add(object);
  const issues: ValidationIssue[] = [];
  for (const [key, item] of Object.entries(object)) {
    if (!storableString(key))
      issues.push({ path: `${path}[${JSON.stringify(key)}]`, message: `key: ${unstorable}` });
    if (item === undefined) continue;
    issues.push(
      ...jsonIssues(
        item,
        /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`,
        seen,
        depth + 1,
      ),
    );
  }
  seen.delete(object);
  return issues;
}

const unstorable = 'a string with a NUL character or a lone surrogate cannot be stored in jsonb';

function storableString(value: string): boolean {
  return unstorableText(value) === undefined;
}

/**
 * The issue of a value nested deeper than maxJsonDepth, found without recursion: for values a
 * codec encodes, since its walk could overflow first. Each object is visited once, so a circular
 * value is left to jsonIssues. Undefined when the value is shallow enough.
 */
export function nestingIssue(value: unknown, path: string): ValidationIssue | undefined {
  const seen = new Set<object>();
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null || seen.has(item)) continue;
    if (depth >= maxJsonDepth) return tooDeep(path);
    seen.add(item);
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return undefined;
}

function tooDeep(path: string): ValidationIssue {
  return {
    // The path down there is thousands of segments long: its root names the field.
    path: path.split(/[.[]/, 1)[0] ?? path,
    message: `nested deeper than ${maxJsonDepth} levels of arrays and objects; Koban stores at most ${maxJsonDepth}`,
  };
}

/**
 * What to do about a value that only a generated codec can store: for args, pass plain data or
 * build the job with the generated builder; for a recorded result, return plain data or give
 * `Koban.start` the generated `workers` entry, which carries the result codec.
 */
function codecHint(path: string, kind: string, plain: string): string {
  return path.startsWith('result')
    ? `return ${plain}, or list the worker's generated entry (from npx gen) in Koban.start({ workers }): its result codec stores ${kind} values`
    : `pass ${plain}, or build the job with the worker's generated builder (from npx gen): its codec stores ${kind} args`;
}
