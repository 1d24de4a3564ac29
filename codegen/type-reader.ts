import { type Symbol as MorphSymbol, Node, type Type, ts } from 'ts-morph';
import { isControlOutcomeSymbol } from './koban-symbols.js';
import { type PropertyModel, type TypeModel, unionOf, unknownModel } from './type-model.js';

/** Reports a type that can't become JSON: the node to point at, what is wrong, and what to write. */
export type ReportType = (node: Node, message: string, fix: string) => void;

const jsonHint =
  'Store plain JSON data (strings, numbers, booleans, arrays, objects); Date and bigint are converted for you';

/** What to write instead of a library type that JSON can't hold, by type name. */
const libraryHints: Record<string, string> = {
  Map: 'Use Record<string, V>, or an array of [key, value] pairs',
  ReadonlyMap: 'Use Record<string, V>, or an array of [key, value] pairs',
  Set: 'Use an array',
  ReadonlySet: 'Use an array',
  Promise: 'Await the value before building the job',
  Buffer: 'Store the bytes as a base64 string',
  Uint8Array: 'Store the bytes as a base64 string',
  ArrayBuffer: 'Store the bytes as a base64 string',
};

function isDefaultLibrary(node: Node): boolean {
  const file = node.getSourceFile();
  return file.isDeclarationFile() && /^lib\..*\.d\.ts$/.test(file.getBaseName());
}

/**
 * Turns compiler types into TypeModels. One reader serves one worker, so that the definitions of
 * self-referencing types it names stay local to that worker's validators.
 */
export class TypeReader {
  readonly definitions = new Map<string, TypeModel>();
  private readonly inProgress = new Map<ts.Type, { name: string; used: boolean }>();

  constructor(
    private readonly location: Node,
    private readonly report: ReportType,
  ) {}

  /** `node` is where a problem in this type is reported; `path` is how issues name it (`args.items`). */
  read(type: Type, path: string, node: Node): TypeModel {
    const flags = type.getFlags();
    if (type.isAny() || type.isUnknown()) return unknownModel;
    if (type.isNever())
      return this.fail(node, `${path} has type never, so no value is valid`, 'Give it a type');
    if (flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral | ts.TypeFlags.StringMapping)) {
      return { kind: 'string' };
    }
    if (type.isNumber()) return { kind: 'number' };
    if (type.isBoolean()) return { kind: 'boolean' };
    if (type.isBigInt() || type.isBigIntLiteral()) return { kind: 'bigint' };
    if (type.isStringLiteral() || type.isNumberLiteral()) {
      return { kind: 'literal', values: [type.getLiteralValue() as string | number] };
    }
    if (type.isBooleanLiteral()) return { kind: 'literal', values: [type.getText() === 'true'] };
    if (type.isNull()) return { kind: 'null' };
    if (type.isUndefined() || type.isVoid()) return { kind: 'undefined' };
    if (flags & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) {
      return this.fail(node, `${path} is a symbol, which JSON can't store`, 'Use a string');
    }
    if (type.isUnion()) {
      const members = type.getUnionTypes().map((member) => this.read(member, path, node));
      return unionOf(members, this.definitions);
    }
    if (type.isIntersection()) {
      const primitive = type.getIntersectionTypes().find((member) => !member.isObject());
      // A branded primitive (`string & { __brand: 'Id' }`) is stored as the primitive.
      if (primitive) return this.read(primitive, path, node);
    }
    if (type.isObject() || type.isIntersection()) return this.readObjectLike(type, path, node);
    if (type.isTypeParameter()) {
      return this.fail(node, `${path} is a type parameter`, 'Give process a concrete Job<Args> type');
    }
    return this.fail(node, `${path} has a type npx gen can't read (${type.getText()})`, jsonHint);
  }

  private readObjectLike(type: Type, path: string, node: Node): TypeModel {
    const symbol = type.getSymbol();
    const name = symbol?.getName() ?? '';
    if (type.isArray() || type.isReadonlyArray()) {
      const element = type.getArrayElementType() ?? type.getTypeArguments()[0];
      return { kind: 'array', element: element ? this.read(element, `${path}[]`, node) : unknownModel };
    }
    if (type.isTuple()) {
      const elements = type
        .getTupleElements()
        .map((element, index) => this.read(element, `${path}[${index}]`, node));
      return { kind: 'tuple', elements };
    }
    if (name === 'Date' && symbol?.getDeclarations().some(isDefaultLibrary)) return { kind: 'date' };
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      return this.fail(
        node,
        `${path} is a function, which JSON can't store`,
        'Pass data that says what to do (a name or an id) and look the function up inside process',
      );
    }
    const unsupported = this.unsupportedObject(type, symbol);
    if (unsupported)
      return this.fail(node, `${path} is ${unsupported.what}, which JSON can't store`, unsupported.fix);
    return this.readObject(type, path, node);
  }

  /** Class instances and library objects (Map, Set, Buffer …) are not plain data. */
  private unsupportedObject(
    type: Type,
    symbol: MorphSymbol | undefined,
  ): { what: string; fix: string } | undefined {
    const name = symbol?.getName() ?? '';
    const declarations = symbol?.getDeclarations() ?? [];
    if (declarations.some((declaration) => Node.isClassDeclaration(declaration))) {
      return {
        what: `an instance of the class ${name}`,
        fix: `Use a plain interface with ${name}'s data fields, and rebuild the instance inside process`,
      };
    }
    // Anonymous and mapped types (`Record<K, V>`, `Partial<T>`) are declared in the library too, as `__type`.
    const named = name !== 'Object' && !name.startsWith('__');
    if (named && declarations.length > 0 && declarations.every(isDefaultLibrary)) {
      return { what: `a ${name}`, fix: libraryHints[name] ?? jsonHint };
    }
    for (const base of type.getBaseTypes()) {
      const found = this.unsupportedObject(base, base.getSymbol());
      if (found)
        return {
          what: `a ${name} (a ${found.what.replace(/^an? /, '')})`,
          fix: libraryHints[name] ?? found.fix,
        };
    }
    return undefined;
  }

  private readObject(type: Type, path: string, node: Node): TypeModel {
    const key = type.compilerType;
    const pending = this.inProgress.get(key);
    if (pending) {
      pending.used = true;
      return { kind: 'ref', name: pending.name };
    }
    const entry = { name: this.definitionName(type), used: false };
    this.inProgress.set(key, entry);
    const properties: PropertyModel[] = [];
    for (const property of type.getProperties()) {
      const model = this.readProperty(property, path, node);
      if (model) properties.push(model);
    }
    const index = type.getStringIndexType() ?? type.getNumberIndexType();
    const rest = this.readRest(index, properties.length, path, node);
    this.inProgress.delete(key);
    const model: TypeModel = { kind: 'object', properties, rest };
    if (!entry.used) return model;
    this.definitions.set(entry.name, model);
    return { kind: 'ref', name: entry.name };
  }

  /**
   * Keys beyond the listed properties: typed by an index signature; none for `Record<string, never>`;
   * any for `{}` and `object`, which list nothing and accept any object.
   */
  private readRest(index: Type | undefined, listed: number, path: string, node: Node): TypeModel | undefined {
    if (index?.isNever()) return undefined;
    if (index) return this.read(index, `${path}[key]`, node);
    return listed === 0 ? unknownModel : undefined;
  }

  private readProperty(property: MorphSymbol, path: string, node: Node): PropertyModel | undefined {
    const name = property.getName();
    const declaration = property.getValueDeclaration() ?? property.getDeclarations()[0] ?? node;
    const where = declaration.getSourceFile().isInNodeModules() ? node : declaration;
    if (name.startsWith('__@')) {
      this.fail(where, `${path} has a symbol-keyed property, which JSON can't store`, 'Use a string key');
      return undefined;
    }
    const type = property.getTypeAtLocation(this.location);
    const members = type.isUnion() ? type.getUnionTypes() : [type];
    const defined = members.filter((member) => !member.isUndefined());
    const optional = property.isOptional() || defined.length < members.length;
    const childPath = `${path}.${name}`;
    const models = defined.map((member) => this.read(member, childPath, where));
    const model = models.length === 0 ? ({ kind: 'undefined' } as const) : unionOf(models, this.definitions);
    return { name, optional, type: model };
  }

  /** A readable, unique name for a self-referencing type: its alias or interface name. */
  private definitionName(type: Type): string {
    const base = (type.getAliasSymbol() ?? type.getSymbol())?.getName() ?? 'Shape';
    const clean = /^[A-Za-z_$][\w$]*$/.test(base) && !base.startsWith('__') ? base : 'Shape';
    const taken = new Set([
      ...this.definitions.keys(),
      ...[...this.inProgress.values()].map((item) => item.name),
    ]);
    let name = clean;
    for (let suffix = 2; taken.has(name); suffix += 1) name = `${clean}${suffix}`;
    return name;
  }

  private fail(node: Node, message: string, fix: string): TypeModel {
    this.report(node, message, fix);
    return unknownModel;
  }
}

/** The result type of `process`: Promise unwrapped, koban's control outcomes left out. */
export function resultTypeMembers(returnType: Type): Type[] {
  const awaited = returnType.getAwaitedType() ?? returnType;
  const members = awaited.isUnion() ? awaited.getUnionTypes() : [awaited];
  return members.filter((member) => !isControlOutcomeSymbol(member.getSymbol() ?? member.getAliasSymbol()));
}

/**
 * The result type of one job of a chunk worker: the values of the map `process` returns, less
 * control outcomes and Errors (which fail the job); a return that is not a map records nothing.
 */
export function chunkResultTypeMembers(returnType: Type): Type[] {
  const values: Type[] = [];
  for (const member of resultTypeMembers(returnType)) {
    const name = member.getSymbol()?.getName();
    const [, value] = member.getTypeArguments();
    if ((name === 'Map' || name === 'ReadonlyMap') && value) {
      for (const item of value.isUnion() ? value.getUnionTypes() : [value]) {
        if (!isControlOutcomeSymbol(item.getSymbol() ?? item.getAliasSymbol()) && !isErrorType(item))
          values.push(item);
      }
    } else if (member.isUndefined() || member.isVoid()) {
      values.push(member);
    }
  }
  return values;
}

function isErrorType(type: Type): boolean {
  if (type.getSymbol()?.getName() === 'Error') return true;
  return type.getBaseTypes().some(isErrorType);
}
