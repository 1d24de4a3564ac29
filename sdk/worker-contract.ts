/**
 * What a worker's generated codecs were built from, besides its TypeScript types: its stored name,
 * `@Structured` lists and whether it is `@Recorded`. `npx gen` writes this fingerprint into each
 * entry of `workers`; `Koban.start` computes it again from the decorators it runs with, and warns
 * when they differ: the generated module is stale.
 */
export interface WorkerContractSource {
  readonly name: string;
  readonly structured:
    | {
        readonly keys?: readonly string[] | undefined;
        readonly required?: readonly string[] | undefined;
        readonly defaults?: unknown;
      }
    | undefined;
  readonly recorded: boolean;
}

/** A short, stable fingerprint of a worker's contract (FNV-1a over a canonical JSON form). */
export function workerContract(source: WorkerContractSource): string {
  const { structured } = source;
  const canonical = canonicalJson({
    name: source.name,
    structured: structured
      ? {
          keys: structured.keys ? [...structured.keys].sort() : null,
          required: [...(structured.required ?? [])].sort(),
          defaults: structured.defaults ?? {},
        }
      : null,
    recorded: source.recorded,
  });
  let hash = 0x811c9dc5;
  for (let index = 0; index < canonical.length; index++) {
    hash ^= canonical.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** JSON with object keys sorted, so that equal values give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
