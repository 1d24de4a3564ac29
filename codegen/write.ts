import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Generated } from './generate.js';

/** Writes the generated module unless the file already holds exactly that text. */
export function writeOutput(generated: Generated): 'written' | 'unchanged' {
  const { out } = generated.config;
  if (existsSync(out) && readFileSync(out, 'utf8') === generated.text) return 'unchanged';
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, generated.text);
  return 'written';
}
