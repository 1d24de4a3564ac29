import { KobanConfigError, type ValidationIssue } from '../../sdk/errors.js';
import type { StructuredOptions } from '../../sdk/worker-options.js';

/**
 * The `@Structured` contract for workers without a generated codec: `defaults` filled in for
 * missing keys, unknown keys rejected when `keys` is given, and `required` keys present (not
 * undefined or null). With a codec from `npx gen`, the codec does all this and checks types too.
 *
 * Returns the args with defaults applied and the problems found, each with its path; the caller
 * decides whether they fail an insert or cancel a stored job.
 */
export function applyStructured(
  args: unknown,
  options: StructuredOptions,
  path = 'args',
): { readonly value: unknown; readonly issues: ValidationIssue[] } {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    const got = args === null ? 'null' : Array.isArray(args) ? 'an array' : typeof args;
    return { value: args, issues: [{ path, message: `expected an object, got ${got}` }] };
  }
  const value: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  for (const [key, fallback] of Object.entries(options.defaults ?? {})) {
    if (value[key] === undefined && fallback !== undefined) value[key] = structuredClone(fallback);
  }
  const issues: ValidationIssue[] = [];
  if (options.keys) {
    const allowed = new Set<string>(options.keys);
    for (const key of Object.keys(value)) {
      if (!allowed.has(key) && value[key] !== undefined) {
        issues.push({
          path: keyPath(path, key),
          message: `unknown key; expected only ${[...allowed].join(', ') || '(no keys)'}`,
        });
      }
    }
  }
  for (const key of options.required ?? []) {
    if (value[key] === undefined || value[key] === null) {
      issues.push({
        path: keyPath(path, key),
        message: `required, got ${value[key] === null ? 'null' : 'undefined'}`,
      });
    }
  }
  return { value, issues };
}

/** Checks the decorator's own lists, so a typo fails at start rather than on every job. */
export function checkStructuredOptions(options: StructuredOptions, worker: string): void {
  const where = `${worker} @Structured`;
  const list = (name: 'keys' | 'required') => {
    const items = options[name];
    if (items !== undefined && (!Array.isArray(items) || items.some((item) => typeof item !== 'string'))) {
      throw new KobanConfigError(
        `${where}: ${name} must be an array of key names, got ${JSON.stringify(items)}`,
      );
    }
  };
  list('keys');
  list('required');
  if (options.defaults !== undefined && (typeof options.defaults !== 'object' || options.defaults === null)) {
    throw new KobanConfigError(`${where}: defaults must be an object of key → value`);
  }
  if (!options.keys) return;
  const allowed = new Set<string>(options.keys);
  const stray = [...(options.required ?? []), ...Object.keys(options.defaults ?? {})].filter(
    (key) => !allowed.has(key),
  );
  if (stray.length > 0) {
    throw new KobanConfigError(
      `${where}: ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} required or defaulted but not in keys; add to keys`,
    );
  }
}

function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
