import type { ValidationIssue } from '../../sdk/errors.js';

/**
 * Lists every value that would not survive a JSON round trip unchanged. Without a generated codec,
 * args are stored as JSON, so a Date or a Map would reach `process` as something else.
 */
export function jsonIssues(value: unknown, path: string, seen = new Set<object>()): ValidationIssue[] {
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
      return [
        { path, message: 'bigint is not JSON; pass a string, or run `npx gen` to get bigint args decoded' },
      ];
    case 'undefined':
      return [{ path, message: 'undefined is not JSON; leave the key out or use null' }];
    case 'function':
    case 'symbol':
      return [{ path, message: `a ${typeof value} is not JSON` }];
  }
  if (value === null) return [];
  const object = value as object;
  if (seen.has(object)) return [{ path, message: 'a circular reference is not JSON' }];
  if (Array.isArray(object)) {
    seen.add(object);
    const issues = object.flatMap((item, index) => jsonIssues(item, `${path}[${index}]`, seen));
    seen.delete(object);
    return issues;
  }
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = prototype?.constructor?.name ?? 'object';
    const hint = kind === 'Date' ? '; pass an ISO string, or run `npx gen` to get Date args decoded' : '';
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
      ),
    );
  }
  seen.delete(object);
  return issues;
}

const unstorable = 'a string with a NUL character or a lone surrogate cannot be stored in jsonb';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** PostgreSQL's jsonb rejects U+0000 and text that is not well-formed UTF-16. */
function storableString(value: string): boolean {
  return !value.includes('\u0000') && !loneSurrogate.test(value);
}
