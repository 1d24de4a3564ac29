import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { KobanCodegenSetupError } from './errors.js';

export const defaultOut = 'src/koban.gen.ts';

/** Where gen reads from and writes to, all absolute. */
export interface GenConfig {
  /** The directory of tsconfig.json: paths in messages and the output are relative to it. */
  readonly root: string;
  readonly tsconfig: string;
  readonly out: string;
}

/** The `koban` section of package.json. */
interface PackageSection {
  readonly out?: unknown;
}

function findUp(start: string, name: string): string | undefined {
  let directory = resolve(start);
  for (;;) {
    const candidate = join(directory, name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function readPackageSection(root: string): PackageSection {
  const manifest = join(root, 'package.json');
  if (!existsSync(manifest)) return {};
  let parsed: { koban?: unknown };
  try {
    parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { koban?: unknown };
  } catch (error) {
    throw new KobanCodegenSetupError(`${manifest} is not valid JSON: ${(error as Error).message}`);
  }
  const section = parsed.koban;
  if (section === undefined) return {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new KobanCodegenSetupError(
      `${manifest}: "koban" must be an object such as { "out": "${defaultOut}" }, got ${JSON.stringify(section)}`,
    );
  }
  return section as PackageSection;
}

/**
 * Finds tsconfig.json from `cwd` upwards and the output file: `--out` (relative to cwd) first,
 * then `koban.out` in package.json beside tsconfig.json, then `src/koban.gen.ts`.
 */
export function loadConfig(cwd: string, flags: { out?: string | undefined }): GenConfig {
  const tsconfig = findUp(cwd, 'tsconfig.json');
  if (!tsconfig) {
    throw new KobanCodegenSetupError(
      `no tsconfig.json in ${resolve(cwd)} or above it. Run npx gen inside your project, or create a tsconfig.json`,
    );
  }
  const root = dirname(tsconfig);
  const section = readPackageSection(root);
  if (section.out !== undefined && (typeof section.out !== 'string' || section.out.trim() === '')) {
    throw new KobanCodegenSetupError(
      `${join(root, 'package.json')}: koban.out must be a file path such as "${defaultOut}", got ${JSON.stringify(section.out)}`,
    );
  }
  let out: string;
  if (flags.out !== undefined) out = isAbsolute(flags.out) ? flags.out : resolve(cwd, flags.out);
  else out = resolve(root, (section.out as string | undefined) ?? defaultOut);
  if (!/\.[cm]?tsx?$/.test(out)) {
    throw new KobanCodegenSetupError(`the output ${out} must be a TypeScript file ending in .ts`);
  }
  return { root, tsconfig, out };
}
