import { compareText } from './errors.js';

/**
 * The shape of args or a result as plain data: what the validators, fixtures and checks are
 * generated from. It holds no compiler objects, so every later stage is a pure function of it.
 */
export type TypeModel =
  | { readonly kind: 'string' }
  | { readonly kind: 'number' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'bigint' }
  | { readonly kind: 'date' }
  | { readonly kind: 'null' }
  | { readonly kind: 'undefined' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'literal'; readonly values: readonly LiteralValue[] }
  | { readonly kind: 'array'; readonly element: TypeModel }
  | { readonly kind: 'tuple'; readonly elements: readonly TypeModel[] }
  | ObjectModel
  | UnionModel
  | { readonly kind: 'ref'; readonly name: string };

export type LiteralValue = string | number | boolean;

export interface ObjectModel {
  readonly kind: 'object';
  readonly properties: readonly PropertyModel[];
  /** The type of keys not listed, from an index signature or a Record; none means no such keys. */
  readonly rest: TypeModel | undefined;
}

export interface PropertyModel {
  readonly name: string;
  readonly optional: boolean;
  readonly type: TypeModel;
}

export interface UnionModel {
  readonly kind: 'union';
  readonly members: readonly TypeModel[];
  /** A property that is a distinct literal in every member, so validation can dispatch on it. */
  readonly discriminant: string | undefined;
}

/** Named models for types that refer to themselves; `ref` nodes point here. */
export type Definitions = ReadonlyMap<string, TypeModel>;

export const unknownModel: TypeModel = { kind: 'unknown' };

/** Follows `ref` nodes to the model they name. */
export function resolve(model: TypeModel, definitions: Definitions): TypeModel {
  let current = model;
  const seen = new Set<string>();
  while (current.kind === 'ref' && !seen.has(current.name)) {
    seen.add(current.name);
    current = definitions.get(current.name) ?? unknownModel;
  }
  return current;
}

/** What a value should have been, as written after `expected` in an issue. */
export function describe(model: TypeModel, definitions: Definitions): string {
  const resolved = resolve(model, definitions);
  switch (resolved.kind) {
    case 'date':
      return 'Date';
    case 'literal':
      return resolved.values.map((value) => JSON.stringify(value)).join(' | ');
    case 'tuple':
      return 'array';
    case 'union':
      return [...new Set(resolved.members.map((member) => describe(member, definitions)))].join(' | ');
    case 'ref':
      return 'unknown';
    default:
      return resolved.kind;
  }
}

const kindRank: Record<TypeModel['kind'], number> = {
  literal: 0,
  string: 1,
  number: 2,
  boolean: 3,
  bigint: 4,
  date: 5,
  array: 6,
  tuple: 7,
  object: 8,
  ref: 9,
  union: 10,
  unknown: 11,
  null: 12,
  undefined: 13,
};

function compareLiterals(a: LiteralValue, b: LiteralValue): number {
  if (typeof a !== typeof b) return compareText(typeof a, typeof b);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareText(String(a), String(b));
}

function compareModels(a: TypeModel, b: TypeModel): number {
  return kindRank[a.kind] - kindRank[b.kind] || compareText(JSON.stringify(a), JSON.stringify(b));
}

/**
 * Builds a union in one canonical form: nested unions flattened, literals merged into one node,
 * `true | false` as boolean, duplicates dropped, members sorted. The compiler orders union members
 * by internal ids, which shift when unrelated files change; sorting keeps the output stable.
 */
export function unionOf(members: readonly TypeModel[], definitions: Definitions): TypeModel {
  const flat = members.flatMap((member) => (member.kind === 'union' ? member.members : [member]));
  if (flat.some((member) => member.kind === 'unknown')) return unknownModel;
  const literals = flat.flatMap((member) => (member.kind === 'literal' ? member.values : []));
  const others = flat.filter((member) => member.kind !== 'literal');
  const hasBoolean = others.some((member) => member.kind === 'boolean');
  const bothBooleans = literals.includes(true) && literals.includes(false);
  const keptLiterals = [...new Set(literals)]
    .filter((value) => typeof value !== 'boolean' || !(hasBoolean || bothBooleans))
    .filter((value) => !others.some((member) => member.kind === typeof value))
    .sort(compareLiterals);
  const parts: TypeModel[] = [...others];
  if (bothBooleans && !hasBoolean) parts.push({ kind: 'boolean' });
  if (keptLiterals.length > 0) parts.push({ kind: 'literal', values: keptLiterals });
  const unique = [...new Map(parts.map((part) => [JSON.stringify(part), part])).values()].sort(compareModels);
  if (unique.length === 1) return unique[0]!;
  if (unique.length === 0) return unknownModel;
  return { kind: 'union', members: unique, discriminant: findDiscriminant(unique, definitions) };
}

function literalsOf(model: TypeModel | undefined): readonly LiteralValue[] | undefined {
  return model?.kind === 'literal' ? model.values : undefined;
}

/** The first property, in the first member's order, that tells every object member apart. */
function findDiscriminant(members: readonly TypeModel[], definitions: Definitions): string | undefined {
  const objects = members.map((member) => resolve(member, definitions));
  if (objects.length < 2 || objects.some((member) => member.kind !== 'object')) return undefined;
  const shapes = objects as ObjectModel[];
  for (const candidate of shapes[0]!.properties) {
    const seen = new Set<LiteralValue>();
    const distinct = shapes.every((shape) => {
      const property = shape.properties.find((item) => item.name === candidate.name);
      const values = property && !property.optional ? literalsOf(property.type) : undefined;
      if (!values || values.some((value) => seen.has(value))) return false;
      for (const value of values) seen.add(value);
      return true;
    });
    if (distinct) return candidate.name;
  }
  return undefined;
}
