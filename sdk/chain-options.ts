import { KobanConfigError } from './errors.js';

/**
 * What makes the jobs of a chained worker one chain: the worker itself (every job of it, one
 * chain), or the values of some args or meta keys (a chain per value, e.g. per account).
 */
export type ChainBy<Args = any> =
  | 'worker'
  | { readonly args: readonly (keyof Args & string)[] }
  | { readonly meta: readonly string[] };

/** `@Worker({ chain })`: one job per chain at a time, in insertion order, on every node. */
export interface ChainOptions<Args = any> {
  /** Default `'worker'`: one chain of all the worker's jobs. */
  by?: ChainBy<Args>;
  /**
   * What a discarded or cancelled link does to the rest of its chain: `'skip'` (the default)
   * runs the next one; `'hold'` stops the chain until the link is retried or deleted.
   */
  onFailure?: 'skip' | 'hold';
}

/** A worker's chain after checks: what the runtime applies. */
export interface WorkerChain {
  readonly by: 'worker' | { readonly args: readonly string[] } | { readonly meta: readonly string[] };
  readonly onFailure: 'skip' | 'hold';
}

const keyPattern = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/** The chain option of a worker, checked; `where` names the worker. */
export function checkChain(value: unknown, where: string): WorkerChain {
  const at = `${where} chain`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KobanConfigError(`${at}: expected { by, onFailure }, got ${JSON.stringify(value)}`);
  }
  const { by = 'worker', onFailure = 'skip', ...rest } = value as ChainOptions;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new KobanConfigError(`${at}: unknown option ${unknown.join(', ')}; a chain takes by and onFailure`);
  }
  if (onFailure !== 'skip' && onFailure !== 'hold') {
    throw new KobanConfigError(
      `${at}.onFailure: expected 'skip' or 'hold', got ${JSON.stringify(onFailure)}`,
    );
  }
  return { by: checkChainBy(by, `${at}.by`), onFailure };
}

function checkChainBy(by: unknown, where: string): WorkerChain['by'] {
  if (by === 'worker') return 'worker';
  const keys = (field: 'args' | 'meta', list: unknown): readonly string[] => {
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some((key) => typeof key !== 'string' || !keyPattern.test(key))
    ) {
      throw new KobanConfigError(
        `${where}.${field}: expected a non-empty list of key names, got ${JSON.stringify(list)}`,
      );
    }
    return [...list];
  };
  if (typeof by === 'object' && by !== null && Object.keys(by).length === 1) {
    if ('args' in by) return { args: keys('args', by.args) };
    if ('meta' in by) return { meta: keys('meta', by.meta) };
  }
  throw new KobanConfigError(
    `${where}: expected 'worker', { args: [...] } or { meta: [...] }, got ${JSON.stringify(by)}`,
  );
}
