import { performance } from 'node:perf_hooks';
import { type CompilerOptions, ts } from 'ts-morph';
import type { GenConfig } from './config.js';
import { declaredNames, emitModule, reservedNames } from './emit.js';
import { ProblemList } from './errors.js';
import { formatSource } from './format.js';
import { buildModel } from './model.js';
import { loadProject } from './project.js';
import { projectPath, scanProject } from './scan.js';
import { projectWarnings } from './warnings.js';

/** The generated module, not yet written, with how long each stage took. */
export interface Generated {
  readonly config: GenConfig;
  readonly text: string;
  readonly workers: number;
  /** Problems that do not stop gen but would break the project, each with its fix. */
  readonly warnings: readonly string[];
  readonly timings: { readonly load: number; readonly scan: number; readonly emit: number };
}

/** `.js` for node16/nodenext resolution, where relative imports need it; none for bundlers. */
export function importExtensionOf(options: CompilerOptions): '.js' | '' {
  const { ModuleKind, ModuleResolutionKind } = ts;
  const resolution = options.moduleResolution;
  if (resolution !== undefined) {
    return resolution === ModuleResolutionKind.Node16 || resolution === ModuleResolutionKind.NodeNext
      ? '.js'
      : '';
  }
  const module = options.module;
  const nodeModules = [ModuleKind.Node16, ModuleKind.Node18, ModuleKind.Node20, ModuleKind.NodeNext];
  return module !== undefined && nodeModules.includes(module) ? '.js' : '';
}

/**
 * The pipeline, without touching the output file: load the project, scan it into a sorted
 * model, emit and format. Throws KobanCodegenError listing every problem found.
 */
export function generate(config: GenConfig): Generated {
  const started = performance.now();
  const project = loadProject(config.tsconfig);
  const loaded = performance.now();
  const problems = new ProblemList();
  const workers = scanProject(project, config.root, config.out, problems);
  const settings = {
    importExtension: importExtensionOf(project.getCompilerOptions()),
    outFile: projectPath(config.root, config.out),
  };
  const model = buildModel(workers, settings, { declaredNames, reserved: reservedNames }, problems);
  problems.throwIfAny();
  const scanned = performance.now();
  const text = formatSource(emitModule(model));
  const emitted = performance.now();
  return {
    config,
    text,
    workers: model.workers.length,
    warnings: projectWarnings(
      project.getCompilerOptions(),
      projectPath(config.root, config.tsconfig),
      model.workers.length,
    ),
    timings: { load: loaded - started, scan: scanned - loaded, emit: emitted - scanned },
  };
}
