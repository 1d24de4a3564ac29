import type { StructuredModel } from './options.js';
import {
  type Definitions,
  describe,
  type LiteralValue,
  type ObjectModel,
  resolve,
  type TypeModel,
} from './type-model.js';
import { literalSource } from './validators.js';
import { pathSegment, propertyKey, quote } from './writer.js';

/** Source of a sample value, kept as a tree so that long objects can be laid out over lines. */
export type Expr =
  | string
  | { readonly object: readonly (readonly [string, Expr])[] }
  | { readonly array: readonly Expr[] };

/** An args value a validator must reject, with the issue it reports, as `path: message`. */
export interface InvalidCase {
  /** Source of the args, in terms of `sample` (the source of a call returning valid args). */
  readonly args: (sample: string) => string;
  readonly error: string;
}

const sampleDate = "new Date('2024-01-01T00:00:00.000Z')";
/** Tried in order as the wrong value for a key: the first its type rejects is used. */
const wrongValues: readonly LiteralValue[] = [42, 'text', true];

function singular(key: string): string {
  return key.length > 3 && key.endsWith('s') ? key.slice(0, -1) : key;
}

/**
 * A readable, valid value for a type: strings are their key's name, numbers 1, the first member
 * of a union. Undefined when no finite value exists (a type that always contains itself).
 */
export function sampleOf(
  model: TypeModel,
  key: string,
  definitions: Definitions,
  expanding = new Set<string>(),
): Expr | undefined {
  switch (model.kind) {
    case 'string':
      return quote(key);
    case 'number':
      return '1';
    case 'boolean':
      return 'true';
    case 'bigint':
      return 'BigInt(1)';
    case 'date':
      return sampleDate;
    case 'null':
    case 'unknown':
      return 'null';
    case 'undefined':
      return 'undefined';
    case 'literal':
      return literalSource(model.values[0]!);
    case 'array': {
      const item = sampleOf(model.element, singular(key), definitions, expanding);
      return { array: item === undefined ? [] : [item] };
    }
    case 'tuple': {
      const items = model.elements.map((element) => sampleOf(element, key, definitions, expanding));
      return items.every((item) => item !== undefined) ? { array: items as Expr[] } : undefined;
    }
    case 'object':
      return sampleObject(model, undefined, definitions, expanding);
    case 'union':
      for (const member of model.members) {
        const value = sampleOf(member, key, definitions, expanding);
        if (value !== undefined) return value;
      }
      return undefined;
    case 'ref': {
      if (expanding.has(model.name)) return undefined;
      expanding.add(model.name);
      const value = sampleOf(resolve(model, definitions), key, definitions, expanding);
      expanding.delete(model.name);
      return value;
    }
  }
}

export function sampleObject(
  model: ObjectModel,
  structured: StructuredModel | undefined,
  definitions: Definitions,
  expanding = new Set<string>(),
): Expr | undefined {
  const entries: (readonly [string, Expr])[] = [];
  for (const property of model.properties) {
    if (structured?.keys && !structured.keys.includes(property.name)) continue;
    const value = sampleOf(property.type, property.name, definitions, expanding);
    if (value !== undefined) entries.push([propertyKey(property.name), value]);
    else if (!property.optional) return undefined;
  }
  if (model.rest && model.rest.kind !== 'unknown') {
    const value = sampleOf(model.rest, 'key', definitions, expanding);
    if (value !== undefined) entries.push(['key', value]);
  }
  return { object: entries };
}

/** One line when it fits, else one entry per line. */
export function printExpr(expr: Expr, indent: string, width = 100): string {
  if (typeof expr === 'string') return expr;
  const inner = indent + '  ';
  const parts =
    'object' in expr
      ? expr.object.map(([key, value]) => `${key}: ${printExpr(value, inner, width)}`)
      : expr.array.map((value) => printExpr(value, inner, width));
  const [open, close] = 'object' in expr ? ['{', '}'] : ['[', ']'];
  if (parts.length === 0) return `${open}${close}`;
  const spaced = 'object' in expr ? ` ${parts.join(', ')} ` : parts.join(', ');
  const oneLine = `${open}${spaced}${close}`;
  if (!oneLine.includes('\n') && indent.length + oneLine.length <= width) return oneLine;
  return `${open}\n${parts.map((part) => `${inner}${part},`).join('\n')}\n${indent}${close}`;
}

function accepts(model: TypeModel, value: LiteralValue, definitions: Definitions): boolean {
  const resolved = resolve(model, definitions);
  switch (resolved.kind) {
    case 'unknown':
      return true;
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === resolved.kind;
    case 'literal':
      return resolved.values.includes(value);
    case 'union':
      return resolved.members.some((member) => accepts(member, value, definitions));
    default:
      return false;
  }
}

/** The same words the generated `kindOf` and `literalText` helpers use. */
function gotText(model: TypeModel, value: LiteralValue | undefined, definitions: Definitions): string {
  if (value === undefined) return 'undefined';
  if (resolve(model, definitions).kind === 'literal')
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  return typeof value;
}

function wrongFor(model: TypeModel, definitions: Definitions): LiteralValue | undefined {
  return wrongValues.find((value) => !accepts(model, value, definitions));
}

function unusedKey(taken: readonly string[]): string {
  let key = 'unexpectedKey';
  for (let suffix = 2; taken.includes(key); suffix += 1) key = `unexpectedKey${suffix}`;
  return key;
}

/**
 * Args the validator must reject: not an object; each required key missing; each key of the
 * wrong type; for structured workers, an unknown key. Errors match the generated validators.
 */
export function invalidCases(
  args: TypeModel,
  structured: StructuredModel | undefined,
  definitions: Definitions,
): InvalidCase[] {
  const resolved = resolve(args, definitions);
  if (resolved.kind === 'unknown') return [];
  const cases: InvalidCase[] = [{ args: () => 'null', error: 'args: expected object, got null' }];
  const shape =
    resolved.kind === 'object'
      ? resolved
      : resolved.kind === 'union' && resolved.discriminant
        ? (resolve(resolved.members[0]!, definitions) as ObjectModel)
        : undefined;
  if (!shape) return cases;
  const tag = resolved.kind === 'union' ? resolved.discriminant : undefined;
  const allowed = structured?.keys ?? shape.properties.map((property) => property.name);
  for (const property of shape.properties.filter((item) => allowed.includes(item.name))) {
    // A discriminant is checked against every member's tag, so its issue names them all.
    const type =
      property.name === tag && resolved.kind === 'union'
        ? unionTags(resolved.members, tag, definitions)
        : property.type;
    const path = `args${pathSegment(property.name)}`;
    const required = !property.optional || structured?.required.includes(property.name) === true;
    const key = quote(property.name);
    if (required && structured?.defaults[property.name] === undefined) {
      cases.push({
        args: (sample) => `omit(${sample}, ${key})`,
        error: `${path}: expected ${describe(type, definitions)}, got undefined`,
      });
    }
    const wrong = wrongFor(type, definitions);
    if (wrong === undefined) continue;
    cases.push({
      args: (sample) => `{ ...${sample}, ${propertyKey(property.name)}: ${literalSource(wrong)} }`,
      error: `${path}: expected ${describe(type, definitions)}, got ${gotText(type, wrong, definitions)}`,
    });
  }
  if (structured && shape.rest === undefined) {
    const key = unusedKey(allowed);
    cases.push({
      args: (sample) => `{ ...${sample}, ${key}: true }`,
      error: `args.${key}: unknown key (allowed: ${allowed.join(', ')})`,
    });
  }
  return cases;
}

function unionTags(members: readonly TypeModel[], tag: string, definitions: Definitions): TypeModel {
  const values = members.flatMap((member) => {
    const shape = resolve(member, definitions) as ObjectModel;
    const type = shape.properties.find((property) => property.name === tag)?.type;
    return type?.kind === 'literal' ? type.values : [];
  });
  return { kind: 'literal', values };
}
