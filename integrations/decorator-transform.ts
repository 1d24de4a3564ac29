import { extname } from 'node:path';
import { KobanConfigError } from '../sdk/errors.js';

/** A file's code with its decorators compiled, and the source map back to the original. */
export interface TransformedCode {
  readonly code: string;
  readonly map: string;
}

type Esbuild = typeof import('esbuild');

let esbuild: Promise<Esbuild> | undefined;

/** esbuild is an optional peer dependency, needed only by `koban/vitest`. */
function loadEsbuild(): Promise<Esbuild> {
  esbuild ??= import('esbuild').catch((error: unknown) => {
    esbuild = undefined;
    const missing =
      (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' &&
      String((error as Error).message).includes('esbuild');
    if (!missing) throw error;
    throw new KobanConfigError(
      'koban/vitest compiles decorators with esbuild, which is not installed. Run `npm install -D esbuild`',
      { cause: error },
    );
  });
  return esbuild;
}

/**
 * Compiles one TypeScript module's decorators (and its types away) for the Node release running
 * it. esbuild reads the tsconfig.json that applies to `file`, so a project with
 * `experimentalDecorators` gets those, and any other gets TC39 standard decorators, as with tsc.
 * The code comes from the caller (it may differ from the file on disk); only the path is used to
 * find the tsconfig and to name the source map.
 */
export async function compileDecorators(code: string, file: string): Promise<TransformedCode> {
  const { build } = await loadEsbuild();
  const loader = /^\.[cm]?tsx$/.test(extname(file)) ? 'tsx' : 'ts';
  const result = await build({
    entryPoints: [file],
    bundle: false,
    write: false,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    sourcemap: 'external',
    outdir: '/', // only names the outputs: write is false
    logLevel: 'silent',
    plugins: [
      {
        name: 'koban-given-code',
        setup(builder) {
          builder.onLoad({ filter: /.*/ }, () => ({ contents: code, loader }));
        },
      },
    ],
  });
  const map = result.outputFiles.find((output) => output.path.endsWith('.map'));
  const js = result.outputFiles.find((output) => !output.path.endsWith('.map'));
  if (!js || !map) throw new Error(`esbuild gave no output for ${file}`);
  // The code ends with a sourceMappingURL comment naming a file that was never written.
  return { code: js.text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'), map: map.text };
}
