import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Decorator, type Symbol as MorphSymbol, Node, type SourceFile } from 'ts-morph';

export const kobanDecorators = ['Worker', 'Structured', 'Recorded', 'Encrypted'] as const;
export type KobanDecorator = (typeof kobanDecorators)[number];

const kobanModule = 'koban';
const sdkFilePattern = /[\\/]sdk[\\/](decorators|results)\.(d\.)?[cm]?ts$/;
const packageNames = new Map<string, string | undefined>();

/** The `name` of the nearest package.json above a directory, cached per directory. */
function packageNameAbove(directory: string): string | undefined {
  if (packageNames.has(directory)) return packageNames.get(directory);
  const manifest = join(directory, 'package.json');
  let name: string | undefined;
  if (existsSync(manifest)) {
    name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
  } else {
    const parent = dirname(directory);
    name = parent === directory ? undefined : packageNameAbove(parent);
  }
  packageNames.set(directory, name);
  return name;
}

/** True when a directory belongs to the koban package (its nearest package.json is koban's). */
export function isKobanPackageDirectory(directory: string): boolean {
  return packageNameAbove(directory) === kobanModule;
}

/** True for koban's own `sdk/decorators` or `sdk/results` file, from source or from dist. */
export function isKobanSdkFile(file: SourceFile, module: 'decorators' | 'results'): boolean {
  const path = file.getFilePath();
  const match = sdkFilePattern.exec(path);
  return match?.[1] === module && isKobanPackageDirectory(dirname(path));
}

function isKobanName(name: string): name is KobanDecorator {
  return (kobanDecorators as readonly string[]).includes(name);
}

/**
 * Which koban decorator a decorator is, following renamed imports, namespace imports,
 * re-exports and `const` aliases to the declaration in koban's sdk.
 */
export function kobanDecoratorOf(decorator: Decorator): KobanDecorator | undefined {
  const call = decorator.getCallExpression();
  const callee = call ? call.getExpression() : decorator.getExpression();
  return decoratorOfExpression(callee, new Set());
}

function decoratorOfExpression(expression: Node, seen: Set<Node>): KobanDecorator | undefined {
  const nameNode = Node.isPropertyAccessExpression(expression) ? expression.getNameNode() : expression;
  if (!Node.isIdentifier(nameNode)) return undefined;
  return decoratorOfSymbol(nameNode.getSymbol(), seen);
}

function decoratorOfSymbol(symbol: MorphSymbol | undefined, seen: Set<Node>): KobanDecorator | undefined {
  if (!symbol) return undefined;
  const target = symbol.isAlias() ? (symbol.getAliasedSymbol() ?? symbol) : symbol;
  for (const declaration of target.getDeclarations()) {
    if (seen.has(declaration)) continue;
    seen.add(declaration);
    if (Node.isFunctionDeclaration(declaration)) {
      const name = declaration.getName() ?? '';
      if (isKobanName(name) && isKobanSdkFile(declaration.getSourceFile(), 'decorators')) return name;
    } else if (Node.isVariableDeclaration(declaration)) {
      const initializer = declaration.getInitializer();
      const found = initializer ? decoratorOfExpression(initializer, seen) : undefined;
      if (found) return found;
    } else if (Node.isImportSpecifier(declaration)) {
      // The package could not be resolved (not installed yet): trust the import itself.
      const module = declaration.getImportDeclaration().getModuleSpecifierValue();
      const name = declaration.getName();
      if (module === kobanModule && isKobanName(name)) return name;
    }
  }
  return undefined;
}

/** True when a type's declaration is koban's ControlOutcome (cancel, snooze, discard). */
export function isControlOutcomeSymbol(symbol: MorphSymbol | undefined): boolean {
  const declarations = symbol?.getDeclarations() ?? [];
  return declarations.some((declaration) => isKobanSdkFile(declaration.getSourceFile(), 'results'));
}
