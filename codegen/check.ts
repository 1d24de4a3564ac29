import { existsSync, readFileSync } from 'node:fs';
import { unifiedDiff } from './diff.js';
import type { Generated } from './generate.js';
import { projectPath } from './scan.js';

export interface CheckResult {
  readonly upToDate: boolean;
  /** What `npx gen` would change, as a unified diff; empty when up to date. */
  readonly diff: string;
}

/** Compares the generated text with the file on disk, for `npx gen --check` in CI. */
export function checkOutput(generated: Generated): CheckResult {
  const { out, root } = generated.config;
  const onDisk = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const name = projectPath(root, out);
  const diff = unifiedDiff(onDisk, generated.text, `${name} (on disk)`, `${name} (npx gen)`);
  return { upToDate: diff === '', diff };
}
