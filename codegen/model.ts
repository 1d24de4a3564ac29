import { compareText, type ProblemList } from './errors.js';
import type { OptionsModel } from './options.js';
import { type Definitions, resolve, type TypeModel } from './type-model.js';

/** One worker class as codegen sees it: plain data, ready to emit. */
export interface WorkerModel {
  readonly className: string;
  /** The name the class is exported under (`default` for a default export). */
  readonly exportName: string;
  /** Project-relative path of the class's file, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly options: OptionsModel;
  readonly args: TypeModel;
  /** Only for `@Recorded` workers, whose results are stored. */
  readonly result: TypeModel | undefined;
  readonly definitions: Definitions;
}

/** Everything the emitter needs, sorted so the output does not depend on scan order. */
export interface GenModel {
  readonly workers: readonly WorkerModel[];
  /** How the generated module writes relative imports: `.js` for node16/nodenext, none for bundlers. */
  readonly importExtension: '.js' | '';
  /** The generated file, project-relative. */
  readonly outFile: string;
}

/** Top-level args keys, or undefined when any string key is allowed (a Record or index signature). */
export function argsKeys(model: TypeModel, definitions: Definitions): readonly string[] | undefined {
  const resolved = resolve(model, definitions);
  if (resolved.kind === 'object') {
    return resolved.rest === undefined ? resolved.properties.map((property) => property.name) : undefined;
  }
  if (resolved.kind === 'union') {
    const lists = resolved.members.map((member) => argsKeys(member, definitions));
    if (lists.some((list) => list === undefined)) return undefined;
    // keyof a union is the keys every member has.
    return lists[0]!.filter((key) => lists.every((list) => list!.includes(key)));
  }
  return undefined;
}

function where(worker: WorkerModel, option: string): { file: string; line: number } {
  return { file: worker.file, line: worker.options.lines[option] ?? worker.line };
}

function checkKeyList(
  worker: WorkerModel,
  option: string,
  keys: readonly string[] | undefined,
  allowed: readonly string[] | undefined,
  problems: ProblemList,
): void {
  if (!keys || !allowed) return;
  for (const key of keys.filter((item) => !allowed.includes(item))) {
    problems.add({
      ...where(worker, option),
      message: `${worker.className}: ${option} names "${key}", which is not a key of its args (${allowed.join(', ') || 'none'})`,
      fix: `Add ${key} to the args type, or remove it from ${option}`,
    });
  }
}

/** Checks that need the args type: unique, chain and structured key lists must name real args keys. */
function checkWorkerKeys(worker: WorkerModel, problems: ProblemList): void {
  const keys = argsKeys(worker.args, worker.definitions);
  checkKeyList(worker, 'unique.keys', worker.options.uniqueKeys, keys, problems);
  checkKeyList(worker, 'chain.by.args', worker.options.chainKeys, keys, problems);
  const structured = worker.options.structured;
  if (!structured) return;
  const resolved = resolve(worker.args, worker.definitions);
  if (resolved.kind !== 'object') {
    problems.add({
      ...where(worker, 'worker'),
      message: `${worker.className}: @Structured needs args of one object type, got ${resolved.kind}`,
      fix: 'Give process a Job<{ ... }> with an object type, or remove @Structured',
    });
    return;
  }
  checkKeyList(worker, 'structured.keys', structured.keys, keys, problems);
  const allowed = structured.keys ?? keys;
  checkKeyList(worker, 'structured.required', structured.required, allowed, problems);
  checkKeyList(worker, 'structured.defaults', Object.keys(structured.defaults), allowed, problems);
  if (!structured.keys) return;
  for (const property of resolved.properties) {
    if (property.optional || structured.keys.includes(property.name)) continue;
    problems.add({
      ...where(worker, 'structured.keys'),
      message: `${worker.className}: structured.keys leaves out "${property.name}", which its args type requires`,
      fix: `Add '${property.name}' to keys, or make it optional in the args type`,
    });
  }
}

/** Names two workers may not share: the stored name (for the runtime) and the class name (for the builder). */
function checkUnique(
  workers: readonly WorkerModel[],
  nameOf: (worker: WorkerModel) => string,
  what: string,
  fix: string,
  problems: ProblemList,
): void {
  const byName = new Map<string, WorkerModel[]>();
  for (const worker of workers) byName.set(nameOf(worker), [...(byName.get(nameOf(worker)) ?? []), worker]);
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    const places = group.map((worker) => `${worker.className} (${worker.file}:${worker.line})`).join(' and ');
    for (const worker of group) {
      problems.add({
        file: worker.file,
        line: worker.line,
        message: `${places} have the same ${what} "${name}"`,
        fix,
      });
    }
  }
}

/** A class whose name makes a generated declaration clash with another (`Foo` beside `FooClass`). */
function checkDeclaredNames(
  workers: readonly WorkerModel[],
  declaredNames: (className: string) => readonly string[],
  reserved: readonly string[],
  problems: ProblemList,
): void {
  // A reserved name has no owning worker.
  const owners = new Map<string, WorkerModel | undefined>(reserved.map((name) => [name, undefined]));
  for (const worker of workers) {
    for (const name of declaredNames(worker.className)) {
      if (!owners.has(name)) {
        owners.set(name, worker);
        continue;
      }
      const other = owners.get(name);
      if (other?.className === worker.className) continue;
      problems.add({
        file: worker.file,
        line: worker.line,
        message: `${worker.className}: the generated module would declare ${name} twice (${other ? `once for ${other.className}` : 'it is a name the generated module uses itself'})`,
        fix: 'Rename the class',
      });
    }
  }
}

/** Sorts the workers and checks what spans workers. Adds problems; never throws. */
export function buildModel(
  workers: readonly WorkerModel[],
  settings: { importExtension: '.js' | ''; outFile: string },
  naming: { declaredNames: (className: string) => readonly string[]; reserved: readonly string[] },
  problems: ProblemList,
): GenModel {
  const sorted = [...workers].sort(
    (a, b) => compareText(a.className, b.className) || compareText(a.file, b.file),
  );
  checkUnique(
    sorted,
    (worker) => worker.options.name,
    'stored name',
    'Give one of them another name with @Worker({ name }); jobs find their worker by this name',
    problems,
  );
  checkUnique(
    sorted,
    (worker) => worker.className,
    'class name',
    'Rename one class: the generated builders are exported under class names',
    problems,
  );
  const distinctClasses = sorted.filter((worker, index) => sorted[index - 1]?.className !== worker.className);
  checkDeclaredNames(distinctClasses, naming.declaredNames, naming.reserved, problems);
  for (const worker of sorted) checkWorkerKeys(worker, problems);
  return { workers: sorted, ...settings };
}
