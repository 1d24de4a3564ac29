import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout rules of DESIGN.md, checked on the source: what may import what, where job state is
// written, and that modules do not import each other in a circle.

const root = fileURLToPath(new URL('../', import.meta.url));

function sourceFiles(folder: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(join(root, folder))) {
    const path = join(folder, name);
    if (statSync(join(root, path)).isDirectory()) found.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) found.push(path);
  }
  return found;
}

const source = (file: string) => readFileSync(join(root, file), 'utf8');

/** Relative imports whose bindings are used as values: `import type` and all-`type` lists do not load modules. */
function valueImports(file: string): string[] {
  const imports: string[] = [];
  const pattern = /^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'/gms;
  for (const [, typeOnly, bindings, target] of source(file).matchAll(pattern)) {
    if (typeOnly) continue;
    const names = /\{([^}]*)\}/.exec(bindings!)?.[1];
    const listed =
      names
        ?.split(',')
        .map((name) => name.trim())
        .filter(Boolean) ?? [];
    const bare = bindings!
      .replace(/\{[^}]*\}/, '')
      .replace(/,/g, '')
      .trim();
    if (listed.length > 0 && listed.every((name) => name.startsWith('type ')) && bare === '') continue;
    imports.push(relative(root, resolve(dirname(join(root, file)), target!)).replace(/\.js$/, '.ts'));
  }
  return imports;
}

const allImports = (file: string) =>
  [...source(file).matchAll(/from\s+'([^']+)'/g)].map(([, target]) =>
    target!.startsWith('.') ? relative(root, resolve(dirname(join(root, file)), target!)) : target!,
  );

const libraryFiles = [
  'index.ts',
  ...['sdk', 'runtime', 'codegen', 'templates', 'cli', 'web'].flatMap(sourceFiles),
];

/** The folders whose code may run statements on jobs: the engine and its extensions. */
const statementRooms = ['runtime/engine/', 'runtime/workflows/', 'runtime/batches/'];

describe('the layout', () => {
  it('keeps sdk/ free of runtime/ and codegen/', () => {
    const offending = sourceFiles('sdk').flatMap((file) =>
      allImports(file)
        .filter((target) => /^(runtime|codegen)\//.test(target))
        .map((target) => `${file} imports ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('loads ts-morph only in codegen/', () => {
    const offending = libraryFiles
      .filter((file) => !file.startsWith('codegen/'))
      .filter((file) => allImports(file).includes('ts-morph'));
    expect(offending).toEqual([]);
  });

  it('writes job state only in the engine and the rooms plugged into it', () => {
    // A statement that inserts, deletes or updates jobs, or sets a state. Migrations create the
    // table; everything else goes through the engine or the workflow and batch extensions.
    const writes = /(INSERT INTO|DELETE FROM|UPDATE)\s+\$\{[^}]+\}\.jobs\b|\bSET\s+state\s*=/i;
    const offending = libraryFiles
      .filter((file) => !statementRooms.some((room) => file.startsWith(room)))
      .filter((file) => writes.test(source(file)));
    expect(offending).toEqual([]);
    // The check itself finds what it is meant to find.
    expect(sourceFiles('runtime/engine').filter((file) => writes.test(source(file))).length).toBeGreaterThan(
      5,
    );
  });

  it('runs statements only through the engine, its extensions and the database room', () => {
    const runsStatements = /\.query(<[^>]*>)?\(\s*sql|\bsql`\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/;
    const offending = libraryFiles
      .filter((file) => ![...statementRooms, 'runtime/database/'].some((room) => file.startsWith(room)))
      .filter((file) => runsStatements.test(source(file)));
    expect(offending).toEqual([]);
  });

  it('maps driver values only at the database boundary', () => {
    // Ids come back as text and times as numbers (runtime/database/wire.ts): nothing above the
    // boundary converts a row's values.
    const converts = /\b(String|Number|BigInt)\((row|rows\[[^\]]*\]|r)\.(id|attempt)\b/;
    const offending = libraryFiles
      .filter((file) => file.startsWith('runtime/'))
      .filter((file) => converts.test(source(file)));
    expect(offending).toEqual([]);
  });

  it('keeps the top of runtime/ to the facade, its config and the entry points', () => {
    const top = readdirSync(join(root, 'runtime')).filter((name) => name.endsWith('.ts'));
    expect(top.sort()).toEqual(['config.ts', 'koban.ts', 'testing.ts']);
    expect(allImports('runtime/koban.ts').filter((target) => target.startsWith('runtime/testing'))).toEqual(
      [],
    );
  });

  it('has no circular imports between modules, type-only imports included outside sdk/', () => {
    // The sdk's public types refer to each other by design (a Job has its workflow, whose steps
    // are jobs of worker classes whose process takes a Job): there, only value imports count.
    const relative = (file: string) =>
      file.startsWith('sdk/')
        ? []
        : allImports(file)
            .filter((target) => /^(runtime|codegen|templates)\//.test(target))
            .map((target) => target.replace(/\.js$/, '.ts'));
    const graph = new Map(
      libraryFiles.map((file) => [file, [...new Set([...valueImports(file), ...relative(file)])]]),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) {
        if (state.get(target) === 'open')
          cycles.push([...path.slice(path.indexOf(target)), target].join(' → '));
        else if (!state.has(target)) visit(target, [...path, target]);
      }
      state.set(file, 'done');
    };
    for (const file of libraryFiles) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });
});
