import { posix } from 'node:path';
import { type WorkerContractSource, workerContract } from '../sdk/worker-contract.js';
import {
  argsKeysCheckSource,
  type BuilderNames,
  builderSource,
  codecSource,
  invalidArgsSource,
  sameKeysSource,
  typesSource,
} from '../templates/builder.js';
import { generatedHeader } from '../templates/header.js';
import { type HelperName, helperSources, helpersWithDependencies } from '../templates/helpers.js';
import { invalidCases, printExpr, sampleObject, sampleOf } from './fixtures.js';
import { argsKeys, type GenModel, type WorkerModel } from './model.js';
import { resolve } from './type-model.js';
import { ValidatorEmitter } from './validators.js';
import { CodeWriter, camelCase, quote } from './writer.js';

/** What the generated module may import from koban (`type ` for type-only imports). */
const kobanImports = {
  always: ['type WorkerEntry'],
  withWorkers: [
    'type ArgsOf',
    'type Codec',
    'type JobBuilder',
    'KobanValidationError',
    'newJob',
    'type ResultOf',
    'type ValidationIssue',
  ],
  withRecorded: ['type RecordedFetcher'],
} as const;

/**
 * Names every generated module may declare or import whatever the workers; a worker class must
 * not take one. Koban's imports are reserved even when not imported, so that adding a worker
 * never turns a valid class name into a clash.
 */
export const reservedNames: readonly string[] = [
  ...Object.values(kobanImports).flatMap((names) => names.map((name) => name.replace('type ', ''))),
  'workers',
  'fixtures',
  'InvalidArgs',
  'CodecMode',
  'Check',
  'SameKeys',
  ...Object.keys(helperSources),
];

/** The top-level names one worker adds to the generated module. */
export function declaredNames(className: string): string[] {
  return [className, `${className}Class`, `${className}Args`, `${className}Result`];
}

function namesOf(worker: WorkerModel): BuilderNames {
  const prefix = camelCase(worker.className);
  return {
    className: worker.className,
    classAlias: `${worker.className}Class`,
    argsType: `${worker.className}Args`,
    resultType: `${worker.className}Result`,
    argsCodec: `${prefix}ArgsCodec`,
    argsCheck: `${prefix}Args`,
    resultCodec: worker.result ? `${prefix}ResultCodec` : undefined,
    resultCheck: worker.result ? `${prefix}Result` : undefined,
    storedName: worker.options.name,
  };
}

/** The import path of a worker file as seen from the generated file. */
function importPath(model: GenModel, worker: WorkerModel): string {
  const from = posix.dirname(model.outFile);
  let path = posix
    .relative(from, worker.file)
    .replace(/\.(m|c)?tsx?$/, (_match, kind: string | undefined) =>
      model.importExtension ? `.${kind ?? ''}js` : '',
    );
  if (!path.startsWith('.')) path = `./${path}`;
  return path;
}

/** Import statements for the worker classes: one per file, sorted by path, each class under its alias. */
function workerImports(model: GenModel): string[] {
  const byPath = new Map<string, WorkerModel[]>();
  for (const worker of model.workers) {
    const path = importPath(model, worker);
    byPath.set(path, [...(byPath.get(path) ?? []), worker]);
  }
  return [...byPath.keys()].sort().map((path) => {
    const group = byPath.get(path)!;
    const defaultExport = group.find((worker) => worker.exportName === 'default');
    const named = group
      .filter((worker) => worker.exportName !== 'default')
      .map((worker) => `${worker.exportName} as ${worker.className}Class`);
    const parts = [
      defaultExport && `${defaultExport.className}Class`,
      named.length > 0 && `{ ${named.join(', ')} }`,
    ];
    return importStatement(parts.filter(Boolean).join(', '), path);
  });
}

/** `import … from '…';`, with named imports one per line when the statement gets long. */
function importStatement(what: string, from: string): string {
  const line = `import ${what} from ${quote(from)};`;
  const braces = /^(.*?)\{ (.*) \}$/.exec(what);
  if (line.length <= 100 || !braces) return line;
  const names = braces[2]!.split(', ').map((name) => `  ${name},`);
  return [`import ${braces[1]}{`, ...names, `} from ${quote(from)};`].join('\n');
}

function summaryOf(worker: WorkerModel): string {
  const queue = typeof worker.options.worker.queue === 'string' ? worker.options.worker.queue : 'default';
  const features = [
    worker.options.structured && 'structured',
    worker.options.recorded && 'recorded',
    worker.options.encrypted && 'encrypted',
  ].filter(Boolean);
  const stored = worker.options.name === worker.className ? '' : `, stored as "${worker.options.name}"`;
  return `${worker.className} (${worker.file}): queue "${queue}"${stored}${features.length ? `, ${features.join(', ')}` : ''}.`;
}

interface WorkerSource {
  readonly worker: WorkerModel;
  readonly names: BuilderNames;
  readonly validators: string;
  readonly fixture: FixtureSource;
}

interface FixtureSource {
  /** A function returning fresh sample args. */
  readonly sample: string;
  /** The worker's entry in `fixtures`. */
  readonly entry: string;
}

function emitWorker(worker: WorkerModel, helpers: Set<HelperName>, taken: Set<string>): WorkerSource {
  const names = namesOf(worker);
  const strict = worker.options.structured !== undefined;
  const emitter = new ValidatorEmitter(
    camelCase(worker.className),
    worker.definitions,
    strict,
    helpers,
    taken,
  );
  emitter.root(worker.args, 'Args', { structured: worker.options.structured });
  if (worker.result) emitter.root(worker.result, 'Result', { structured: undefined });
  helpers.add('runCheck');
  const codecs = [codecSource(names.argsCodec, names.argsCheck, names.argsType, 'args', names.storedName)];
  if (names.resultCodec && names.resultCheck) {
    codecs.push(
      codecSource(names.resultCodec, names.resultCheck, names.resultType, 'result', names.storedName),
    );
  }
  const validators = [
    emitter.source(),
    ...codecs,
    builderSource(names, summaryOf(worker), worker.options.recorded),
  ].join('\n\n');
  return { worker, names, validators, fixture: emitFixture(worker, names, helpers) };
}

function emitFixture(worker: WorkerModel, names: BuilderNames, helpers: Set<HelperName>): FixtureSource {
  const resolved = resolve(worker.args, worker.definitions);
  const structured = worker.options.structured;
  const sample = (resolved.kind === 'object'
    ? sampleObject(resolved, structured, worker.definitions)
    : sampleOf(worker.args, 'value', worker.definitions)) ?? { object: [] };
  const sampleName = `${camelCase(worker.className)}Sample`;
  const cases = invalidCases(worker.args, structured, worker.definitions);
  if (cases.some((item) => item.args('').startsWith('omit('))) helpers.add('omit');
  const writer = new CodeWriter();
  writer.block(
    `${worker.className}: {`,
    () => {
      writer.line('/** Valid args: a readable sample, with `overrides` on top. */');
      writer.line(`args: (overrides: Partial<${names.argsType}> = {}): ${names.argsType} =>`);
      writer.line(`  ({ ...${sampleName}(), ...overrides }) as ${names.argsType},`);
      writer.line('/** Args the validator must reject, each with the issue it reports. */');
      if (cases.length === 0) {
        writer.line('invalid: (): InvalidArgs[] => [],');
        return;
      }
      writer.block(
        'invalid: (): InvalidArgs[] => [',
        () => {
          for (const item of cases) {
            writer.line(`{ args: ${item.args(`${sampleName}()`)}, error: ${quote(item.error)} },`);
          }
        },
        '],',
      );
    },
    '},',
  );
  const sampleFunction = new CodeWriter();
  sampleFunction.block(`function ${sampleName}(): ${names.argsType} {`, () => {
    sampleFunction.line(`return ${printExpr(sample, '  ')} as ${names.argsType};`);
  });
  return { sample: sampleFunction.toString().trimEnd(), entry: writer.toString().trimEnd() };
}

/** The contract `Koban.start` checks the generated module against, from what gen read. */
function contractSource(worker: WorkerModel): WorkerContractSource {
  const { structured } = worker.options;
  return {
    name: worker.options.name,
    structured: structured && {
      keys: structured.keys,
      required: structured.required,
      defaults: structured.defaults,
    },
    recorded: worker.options.recorded,
  };
}

function writeRegistry(writer: CodeWriter, sources: readonly WorkerSource[]): void {
  writer.line('// Classes are read through getters, so that worker files may import this module themselves.');
  writer.block(
    'export const workers: readonly WorkerEntry[] = [',
    () => {
      for (const { names, worker } of sources) {
        const result = names.resultCodec ? `, result: ${names.resultCodec}` : '';
        const contract = `contract: ${quote(workerContract(contractSource(worker)))}`;
        // The args keys go with the entry: Koban.start checks a queue's partition keys against them.
        const keys = argsKeys(worker.args, worker.definitions);
        const keyList = keys ? `, argsKeys: [${[...keys].sort().map(quote).join(', ')}]` : '';
        writer.line(
          `{ get worker() { return ${names.classAlias}; }, args: ${names.argsCodec}${result}, ${contract}${keyList} },`,
        );
      }
    },
    '];',
  );
}

/** The whole generated module as text (formatting is the next stage). */
export function emitModule(model: GenModel): string {
  const helpers = new Set<HelperName>();
  const taken = new Set<string>(reservedNames);
  for (const worker of model.workers) {
    for (const name of declaredNames(worker.className)) taken.add(name);
  }
  const sources = model.workers.map((worker) => emitWorker(worker, helpers, taken));
  const imports: string[] = [...kobanImports.always];
  if (sources.length > 0) imports.push(...kobanImports.withWorkers);
  if (model.workers.some((worker) => worker.options.recorded)) imports.push(...kobanImports.withRecorded);
  const bare = (name: string) => name.replace('type ', '').toLowerCase();
  imports.sort((a, b) => (bare(a) < bare(b) ? -1 : 1));
  const writer = new CodeWriter();
  writer.line(generatedHeader);
  writer.text(importStatement(`{ ${imports.join(', ')} }`, 'koban'));
  for (const statement of workerImports(model)) writer.text(statement);
  writer.line();
  for (const source of sources) writer.text(typesSource(source.names));
  const keyChecks = sources.flatMap(({ worker, names }) => {
    const keys = argsKeys(worker.args, worker.definitions);
    return keys && keys.length > 0 ? [argsKeysCheckSource(names, [...keys].sort())] : [];
  });
  if (keyChecks.length > 0) {
    writer.line().text(sameKeysSource);
    for (const check of keyChecks) writer.line().text(check);
  }
  if (sources.length > 0) writer.line().text(invalidArgsSource);
  const helperNames = helpersWithDependencies(helpers);
  for (const name of helperNames) writer.line().text(helperSources[name].code);
  for (const source of sources) writer.line().text(source.validators);
  writer.line();
  writer.line('/** Every worker with its codecs: pass to `Koban.start({ workers })`. */');
  if (sources.length === 0) writer.line('export const workers: readonly WorkerEntry[] = [];');
  else writeRegistry(writer, sources);
  for (const { fixture } of sources) writer.line().text(fixture.sample);
  writer.line();
  writer.line(
    '/** Test data per worker: valid sample args, and invalid args with the issue each must raise. */',
  );
  if (sources.length === 0) writer.line('export const fixtures = {};');
  else {
    writer.block(
      'export const fixtures = {',
      () => {
        for (const { fixture } of sources) writer.text(fixture.entry);
      },
      '};',
    );
  }
  return writer.toString();
}
