import { parseArgs } from 'node:util';
import { checkOutput } from './check.js';
import { defaultOut, type GenConfig, loadConfig } from './config.js';
import { KobanCodegenError, KobanCodegenSetupError } from './errors.js';
import { type Generated, generate } from './generate.js';
import { projectPath } from './scan.js';
import { watchProject } from './watch.js';
import { writeOutput } from './write.js';

export const usage = `Usage: npx gen [--out <file>] [--check | --watch]

Generates typed job builders, validators, the worker registry and test fixtures from the
@Worker classes of this project. Finds tsconfig.json from the current directory upwards and
reads the project's source with the TypeScript compiler; none of your code is run.

Options:
  --out <file>  Where to write the module (default ${defaultOut} beside tsconfig.json).
                Also settable in package.json: { "koban": { "out": "src/jobs/koban.gen.ts" } }.
  --check       Write nothing; exit 1 with a diff when the file on disk is stale (for CI).
  --watch       Generate, then again whenever a source file, tsconfig.json or package.json changes.
  -h, --help    Show this help.

Decorator options must be literals written in place (queue: 'imports', keys: ['userId']), so
that gen can read them. Args are read from process(job: Job<Args>) and results, for @Recorded
workers, from what process returns.

Exit codes: 0 done, 1 problems in the workers or a stale file (--check), 2 bad usage or setup.`;

export interface CliIo {
  readonly cwd: string;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Resolves when watch mode should stop; by default on SIGINT or SIGTERM. */
  readonly stopSignal?: Promise<void>;
}

interface Flags {
  readonly out: string | undefined;
  readonly check: boolean;
  readonly watch: boolean;
  readonly help: boolean;
}

function parseFlags(argv: readonly string[]): Flags {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string' },
      check: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new KobanCodegenSetupError(`unexpected argument ${positionals[0]}`);
  if (values.check && values.watch) throw new KobanCodegenSetupError('give --check or --watch, not both');
  return { out: values.out, check: values.check, watch: values.watch, help: values.help };
}

/** One generate-and-write run; reports instead of throwing, and says whether it succeeded. */
function runOnce(config: GenConfig, io: CliIo): boolean {
  try {
    const generated = generate(config);
    reportWarnings(generated, io);
    const status = writeOutput(generated);
    const where = projectPath(config.root, config.out);
    const count = generated.workers === 1 ? '1 worker' : `${generated.workers} workers`;
    io.stdout.write(`${status === 'written' ? 'wrote' : 'up to date:'} ${where} (${count})\n`);
    return true;
  } catch (error) {
    // In watch mode a half-saved tsconfig.json is normal: report it and wait for the next change.
    if (!(error instanceof KobanCodegenError || error instanceof KobanCodegenSetupError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return false;
  }
}

function reportWarnings(generated: Generated, io: CliIo): void {
  for (const warning of generated.warnings) io.stderr.write(`warning: ${warning}\n`);
}

function stopOnSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Runs `npx gen` with the given arguments; resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const flags = parseFlags(argv);
    if (flags.help) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    const config = loadConfig(io.cwd, { out: flags.out });
    if (flags.check) {
      const generated = generate(config);
      reportWarnings(generated, io);
      const result = checkOutput(generated);
      if (result.upToDate) {
        io.stdout.write(`${projectPath(config.root, config.out)} is up to date\n`);
        return 0;
      }
      io.stderr.write(
        `${result.diff}\n${projectPath(config.root, config.out)} is stale: run npx gen and commit the result\n`,
      );
      return 1;
    }
    if (flags.watch) {
      const watcher = await watchProject(config, () => {
        runOnce(config, io);
      });
      io.stdout.write('watching for changes (Ctrl-C to stop)\n');
      await (io.stopSignal ?? stopOnSignal());
      await watcher.close();
      return 0;
    }
    return runOnce(config, io) ? 0 : 1;
  } catch (error) {
    if (error instanceof KobanCodegenError) {
      io.stderr.write(`${error.message}\n`);
      return 1;
    }
    const setup =
      error instanceof KobanCodegenSetupError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!setup) throw error;
    io.stderr.write(`npx gen: ${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
}
