import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleGeneratedWorkers } from '../../runtime/workers/generated-contracts.js';
import type { WorkerEntry } from '../../sdk/registry.js';
import { casesDir } from './helpers.js';

// Koban.start compares the contract gen wrote for each worker with the one it computes from the
// worker's decorators. Fresh output must always match, or every start would warn for nothing.
// (Imported by a computed path: the cases are separate projects, not part of this one's tsc run.)
const load = (path: string) => import(path) as Promise<{ workers: readonly WorkerEntry[] }>;

describe('generated worker contracts', () => {
  it.each(['seed/src/koban.gen.ts', 'shapes/src/generated/jobs.gen.ts'])(
    'match the workers of %s',
    async (path) => {
      const { workers } = await load(join(casesDir, path));
      expect(workers.length).toBeGreaterThan(3);
      expect(workers.every((entry) => typeof entry.contract === 'string')).toBe(true);
      expect(staleGeneratedWorkers(workers)).toEqual([]);
    },
  );

  it('covers every case', () => {
    expect(readdirSync(casesDir).filter((name) => !name.includes('.'))).toEqual(['seed', 'shapes']);
  });
});
