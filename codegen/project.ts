import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Project, type ResolutionHostFactory, ts } from 'ts-morph';
import { KobanCodegenSetupError } from './errors.js';
import { isKobanPackageDirectory } from './koban-symbols.js';

/**
 * `koban`'s entry re-exports the runtime, whose types pull in Drizzle, PGlite and postgres:
 * hundreds of declaration files that no worker signature needs. Everything a worker is written
 * against (decorators, Job, control outcomes) lives in koban's `sdk/index`, so gen resolves
 * `koban` there and the project loads about twice as fast.
 */
function kobanSdkEntry(resolved: ts.ResolvedModuleFull): ts.ResolvedModuleFull {
  const match = /[\\/]index(\.d)?\.ts$/.exec(resolved.resolvedFileName);
  if (!match) return resolved;
  const directory = dirname(resolved.resolvedFileName);
  const sdkEntry = join(directory, 'sdk', `index${match[1] ?? ''}.ts`);
  if (!existsSync(sdkEntry) || !isKobanPackageDirectory(directory)) return resolved;
  return { ...resolved, resolvedFileName: sdkEntry };
}

const kobanSdkResolution: ResolutionHostFactory = (host, getCompilerOptions) => {
  const cache = ts.createModuleResolutionCache(host.getCurrentDirectory?.() ?? process.cwd(), (name) => name);
  return {
    resolveModuleNames(moduleNames, containingFile, _reused, redirected, _options, containingSourceFile) {
      const options = getCompilerOptions();
      const mode = containingSourceFile?.impliedNodeFormat;
      return moduleNames.map((name) => {
        const resolved = ts.resolveModuleName(
          name,
          containingFile,
          options,
          host,
          cache,
          redirected,
          mode,
        ).resolvedModule;
        return resolved && name === 'koban' ? kobanSdkEntry(resolved) : resolved;
      });
    },
  };
};

/** The user's project as tsconfig.json describes it, ready for type queries. */
export function loadProject(tsconfig: string): Project {
  try {
    return new Project({ tsConfigFilePath: tsconfig, resolutionHost: kobanSdkResolution });
  } catch (error) {
    throw new KobanCodegenSetupError(`could not read ${tsconfig}: ${(error as Error).message}`);
  }
}
