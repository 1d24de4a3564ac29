// Builds what the benchmark runs, as compiled JavaScript for plain node: Koban from the working
// tree (rebuilt only when its sources changed), Koban at another git ref (for `--against`), and
// the bench's own child scripts. Everything goes under node_modules/.cache/koban-bench, so that a
// run never races `npm run build` or `npm pack` over dist/.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export const cacheDir = (root: string) => join(root, 'node_modules', '.cache', 'koban-bench');

/** What tsconfig.build.json compiles, and what decides how. */
const sourceRoots = ['index.ts', 'sdk', 'runtime', 'integrations', 'codegen', 'templates'];
const configFiles = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(root, join(path, name)));
}

function contentHash(root: string, files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

async function exec(command: string, args: readonly string[], cwd: string, input?: NodeJS.ReadableStream) {
  const child = spawn(command, args, { cwd, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (input) input.pipe(child.stdin!);
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${code}:\n${output}`);
  return output;
}

/** A folder holding ES modules outside any package: node needs to be told. */
const markModules = (dir: string) => writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');

/**
 * Builds into `<prefix>-<key>` (a hash of the inputs, a commit) unless that folder is there already,
 * so that runs at once (a bench and the bench's own test) never replace what the other is loading.
 * Folders of the same prefix older than a day are removed.
 */
async function buildOnce(
  root: string,
  prefix: string,
  key: string,
  make: (dir: string) => Promise<void>,
): Promise<string> {
  const cache = cacheDir(root);
  const dir = join(cache, `${prefix}-${key}`);
  if (existsSync(join(dir, 'built'))) return dir;
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await make(staging);
  writeFileSync(join(staging, 'built'), '');
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  for (const name of readdirSync(cache)) {
    const old = join(cache, name);
    if (name.startsWith(`${prefix}-`) && old !== dir && Date.now() - statSync(old).mtimeMs > 86_400_000)
      rmSync(old, { recursive: true, force: true });
  }
  return dir;
}

/** Builds the working tree's Koban (tsc, as `npm run build` does) unless built as it is; returns its dist. */
export async function buildWorkingTree(root: string, progress: (message: string) => void): Promise<string> {
  const inputs = [...configFiles, ...sourceRoots.flatMap((path) => filesUnder(root, path))];
  const dir = await buildOnce(root, 'worktree', contentHash(root, inputs), async (staging) => {
    progress('building Koban from the working tree (tsc -p tsconfig.build.json)…');
    markModules(staging);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await exec(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(staging, 'dist')], root);
  });
  return join(dir, 'dist');
}

/** The runtime dependencies and the compiler, as a lockfile resolved them. */
function resolved(dir: string): Record<string, string | undefined> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
  const names = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    'typescript',
    '@types/node',
  ];
  return Object.fromEntries(
    names.sort().map((name) => [name, lock.packages?.[`node_modules/${name}`]?.version]),
  );
}

export interface RefBuild {
  readonly sha: string;
  readonly dist: string;
}

/**
 * Builds Koban as of `ref` in a folder of its own (git archive, then the ref's `npm run build`),
 * kept by commit for the next run. It shares this worktree's node_modules when the ref resolves
 * the same runtime dependencies and compiler; otherwise it installs its own (`npm ci`).
 */
export async function buildRef(
  root: string,
  ref: string,
  progress: (message: string) => void,
): Promise<RefBuild> {
  const sha = (
    await exec('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], root).catch(() => {
      throw new Error(`--against ${ref}: not a commit of this repository`);
    })
  ).trim();
  const dir = await buildOnce(root, 'ref', sha.slice(0, 12), async (staging) => {
    progress(`building Koban at ${ref} (${sha.slice(0, 7)})…`);
    const archive = spawn('git', ['archive', '--format=tar', sha], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await exec('tar', ['-x', '-C', staging], root, archive.stdout);
    if (JSON.stringify(resolved(staging)) === JSON.stringify(resolved(root))) {
      symlinkSync(join(root, 'node_modules'), join(staging, 'node_modules'), 'dir');
    } else {
      progress(`  ${ref} resolves other dependencies: npm ci in its folder…`);
      await exec('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], staging);
    }
    await exec('npm', ['run', 'build'], staging);
  });
  return { sha, dist: join(dir, 'dist') };
}

/** Compiles bench/ to plain JavaScript for the child processes; returns the folder holding bench/. */
export function buildChildren(root: string): Promise<string> {
  const files = filesUnder(root, 'bench').filter((file) => file.endsWith('.ts'));
  return buildOnce(root, 'children', contentHash(root, files), async (out) => {
    await build({
      entryPoints: files.map((file) => join(root, file)),
      outdir: join(out, 'bench'),
      outbase: join(root, 'bench'),
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
    markModules(out);
  });
}
