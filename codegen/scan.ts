import { relative, sep } from 'node:path';
import {
  type ClassDeclaration,
  type Decorator,
  Node,
  type Project,
  type SourceFile,
  SyntaxKind,
} from 'ts-morph';
import type { ProblemList } from './errors.js';
import { type KobanDecorator, kobanDecoratorOf } from './koban-symbols.js';
import type { WorkerModel } from './model.js';
import { readOptions } from './options.js';
import { resolve, type TypeModel, unionOf, unknownModel } from './type-model.js';
import { chunkResultTypeMembers, resultTypeMembers, TypeReader } from './type-reader.js';

/** `Job` without a type argument: args are any JSON object, as `ArgsOf` says. */
const jsonObjectModel: TypeModel = { kind: 'object', properties: [], rest: unknownModel };

/** Reads every koban worker class in the project into plain WorkerModels, adding problems as found. */
export function scanProject(
  project: Project,
  root: string,
  outFile: string,
  problems: ProblemList,
): WorkerModel[] {
  const workers: WorkerModel[] = [];
  for (const file of project.getSourceFiles()) {
    if (file.isDeclarationFile() || file.isInNodeModules() || file.getFilePath() === outFile) continue;
    // Cheap text test first: most files have no decorators at all.
    if (!file.getFullText().includes('@')) continue;
    for (const declaration of classesIn(file)) {
      const decorators = kobanDecoratorsOf(declaration, root, problems);
      if (decorators.size === 0) continue;
      const worker = readWorker(declaration, decorators, root, problems);
      if (worker) workers.push(worker);
    }
  }
  return workers;
}

function classesIn(file: SourceFile): ClassDeclaration[] {
  return file.getDescendantsOfKind(SyntaxKind.ClassDeclaration);
}

export function projectPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

function kobanDecoratorsOf(
  declaration: ClassDeclaration,
  root: string,
  problems: ProblemList,
): Map<KobanDecorator, Decorator> {
  const found = new Map<KobanDecorator, Decorator>();
  for (const decorator of declaration.getDecorators()) {
    const kind = kobanDecoratorOf(decorator);
    if (!kind) continue;
    if (found.has(kind)) {
      problems.add({
        file: projectPath(root, decorator.getSourceFile().getFilePath()),
        line: decorator.getStartLineNumber(),
        message: `${declaration.getName() ?? 'class'} has @${kind} twice`,
        fix: `Keep one @${kind} with all its options`,
      });
    }
    found.set(kind, decorator);
  }
  return found;
}

/** The name a class can be imported by: its export name, or `default`. */
function exportNameOf(declaration: ClassDeclaration): string | undefined {
  for (const [name, nodes] of declaration.getSourceFile().getExportedDeclarations()) {
    if (nodes.includes(declaration)) return name;
  }
  return undefined;
}

function readWorker(
  declaration: ClassDeclaration,
  decorators: ReadonlyMap<KobanDecorator, Decorator>,
  root: string,
  problems: ProblemList,
): WorkerModel | undefined {
  const file = projectPath(root, declaration.getSourceFile().getFilePath());
  const className = declaration.getName() ?? '(anonymous class)';
  const report = (node: Node, message: string, fix: string) => {
    const at = node.getSourceFile().isInNodeModules() ? declaration : node;
    problems.add({
      file: projectPath(root, at.getSourceFile().getFilePath()),
      line: at.getStartLineNumber(),
      message: `${className}: ${message}`,
      fix,
    });
  };
  const workerDecorator = decorators.get('Worker');
  if (!workerDecorator) {
    const [kind, decorator] = [...decorators][0]!;
    report(
      decorator,
      `@${kind} is on a class without @Worker`,
      'Add @Worker() to the class, or remove the decorator',
    );
    return undefined;
  }
  const before = problems.size;
  if (!declaration.getName()) report(declaration, '@Worker needs a named class', 'Give the class a name');
  const exportName = exportNameOf(declaration);
  if (!exportName) {
    report(
      declaration,
      'the class is not exported, so the generated module cannot import it',
      'Add export to the class',
    );
  }
  for (const constructorDeclaration of declaration.getConstructors()) {
    if (
      constructorDeclaration
        .getParameters()
        .some((parameter) => !parameter.isOptional() && !parameter.hasInitializer())
    ) {
      report(
        constructorDeclaration,
        'the constructor takes arguments, but Koban builds workers with new Class()',
        'Give every constructor parameter a default',
      );
    }
  }
  const options = readOptions(className, decorators, report);
  const process = declaration.getType().getProperty('process');
  if (!process) {
    report(
      workerDecorator,
      '@Worker is on a class without a process method',
      'Add async process(job: Job<Args>) { ... }',
    );
    return undefined;
  }
  const processNode = process.getValueDeclaration() ?? declaration;
  const signature = process.getTypeAtLocation(declaration).getCallSignatures()[0];
  if (!signature) {
    report(
      processNode,
      'process is not a method',
      'Write process as a method: async process(job: Job<Args>) { ... }',
    );
    return undefined;
  }
  const reader = new TypeReader(declaration, report);
  const parameter = Node.isMethodDeclaration(processNode) ? processNode.getParameters()[0] : undefined;
  const jobParameter = signature.getParameters()[0];
  // A chunk worker's process takes a list of jobs: the args are its elements'.
  const parameterType = jobParameter?.getTypeAtLocation(declaration);
  const element =
    parameterType?.isArray() || parameterType?.isReadonlyArray()
      ? parameterType.getTypeArguments()[0]
      : undefined;
  const jobType = options.worker.chunk !== undefined ? (element ?? parameterType) : parameterType;
  const argsSymbol = jobType?.getProperty('args');
  const takesList = element !== undefined;
  const chunked = options.worker.chunk !== undefined;
  if (parameterType && takesList !== chunked) {
    report(
      parameter ?? processNode,
      chunked
        ? 'a chunk worker (@Worker({ chunk })) gets a list of jobs, but process takes one'
        : 'process takes a list of jobs, but only a chunk worker gets one',
      chunked
        ? 'Write async process(jobs: Job<Args>[]) { ... }'
        : 'Add @Worker({ chunk: { size: 100 } }) or take one job',
    );
  }

  const args = argsSymbol
    ? reader.read(argsSymbol.getTypeAtLocation(declaration), 'args', parameter ?? processNode)
    : jsonObjectModel;
  const resolvedArgs = resolve(args, reader.definitions);
  const objectLike = (model: TypeModel) =>
    ['object', 'unknown'].includes(resolve(model, reader.definitions).kind);
  if (
    !objectLike(resolvedArgs) &&
    !(resolvedArgs.kind === 'union' && resolvedArgs.members.every(objectLike))
  ) {
    report(
      parameter ?? processNode,
      `args must be an object type, got ${resolvedArgs.kind}`,
      'Wrap the value: Job<{ value: T }>',
    );
  }
  let result: TypeModel | undefined;
  if (options.recorded) {
    const members = (chunked ? chunkResultTypeMembers : resultTypeMembers)(signature.getReturnType());
    const models = members.map((member) => reader.read(member, 'result', processNode));
    result = models.length === 0 ? { kind: 'undefined' } : unionOf(models, reader.definitions);
  }
  if (problems.size > before) return undefined;
  return {
    className,
    exportName: exportName ?? className,
    file,
    line: workerDecorator.getStartLineNumber(),
    options,
    args,
    result,
    definitions: new Map([...reader.definitions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}
