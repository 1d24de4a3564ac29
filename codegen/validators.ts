import type { HelperName } from '../templates/helpers.js';
import type { StaticValue } from './literal.js';
import type { StructuredModel } from './options.js';
import {
  type Definitions,
  describe,
  type LiteralValue,
  type ObjectModel,
  resolve,
  type TypeModel,
} from './type-model.js';
import { CodeWriter, pascalCase, pathSegment, propertyKey, quote, templateText } from './writer.js';

/** What `@Structured` changes at the top level of args: which keys, which are required, defaults. */
export interface RootRules {
  readonly structured: StructuredModel | undefined;
}

const leafChecks: Partial<Record<TypeModel['kind'], HelperName>> = {
  string: 'checkString',
  number: 'checkNumber',
  boolean: 'checkBoolean',
  null: 'checkNull',
  undefined: 'checkAbsent',
  date: 'checkDate',
  bigint: 'checkBigint',
};

export function literalSource(value: LiteralValue): string {
  return typeof value === 'string' ? quote(value) : String(value);
}

/** A JSON literal from decorator options (defaults), as source. */
export function staticSource(value: StaticValue): string {
  if (value === null || typeof value !== 'object')
    return typeof value === 'string' ? quote(value) : String(value);
  if (Array.isArray(value)) return `[${value.map(staticSource).join(', ')}]`;
  const entries = Object.entries(value as Record<string, StaticValue>);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([key, item]) => `${propertyKey(key)}: ${staticSource(item)}`).join(', ')} }`;
}

/**
 * Writes plain validation functions for one worker's args or result. Each object, array, tuple and
 * union becomes a function `(input, path, issues, mode) => output` that pushes every issue it
 * finds and returns the value converted for the mode (Date and bigint to JSON and back).
 */
export class ValidatorEmitter {
  private readonly functions: string[] = [];
  private readonly definitionFunctions = new Map<string, string>();
  /** Whether the function being written passes `mode` on; tracked per function, as they nest. */
  private readsMode = false;

  constructor(
    private readonly prefix: string,
    private readonly definitions: Definitions,
    /** Structured workers reject unknown keys at every level, not only the top. */
    private readonly strict: boolean,
    private readonly helpers: Set<HelperName>,
    private readonly names: Set<string>,
  ) {}

  /** The emitted functions, in the order written. */
  source(): string {
    return this.functions.join('\n\n');
  }

  /** Emits the root check function for a model and returns its name. */
  root(model: TypeModel, suffix: string, rules: RootRules): string {
    const name = this.reserve(`${this.prefix}${suffix}`);
    const resolved = resolve(model, this.definitions);
    if (resolved.kind === 'unknown') {
      // `any` and `unknown` accept every value, so nothing is read but the input.
      this.use('types');
      this.functions.push(
        `function ${name}(input: unknown, _path: string, _issues: ValidationIssue[], _mode: CodecMode): unknown {\n  return input;\n}`,
      );
    } else if (resolved.kind === 'object' && rules.structured) {
      this.emitObject(name, resolved, rules.structured);
    } else if (
      resolved.kind === 'object' ||
      resolved.kind === 'union' ||
      resolved.kind === 'array' ||
      resolved.kind === 'tuple'
    ) {
      this.emitComposite(name, resolved);
    } else {
      this.emitFunction(name, (writer) =>
        writer.line(`return ${this.expression(model, 'input', 'path', name)};`),
      );
    }
    return name;
  }

  private reserve(wanted: string): string {
    let name = wanted;
    for (let suffix = 2; this.names.has(name); suffix += 1) name = `${wanted}${suffix}`;
    this.names.add(name);
    return name;
  }

  private use(helper: HelperName): string {
    this.helpers.add(helper);
    return helper;
  }

  private emitFunction(name: string, body: (writer: CodeWriter) => void): void {
    const outer = this.readsMode;
    this.readsMode = false;
    const inner = new CodeWriter();
    body(inner);
    const text = inner.toString().trimEnd();
    // A function that converts nothing never reads mode; the underscore keeps noUnusedParameters quiet.
    const mode = this.readsMode ? 'mode' : '_mode';
    this.readsMode = outer;
    this.use('types');
    const writer = new CodeWriter();
    writer.block(
      `function ${name}(input: unknown, path: string, issues: ValidationIssue[], ${mode}: CodecMode): unknown {`,
      () => {
        writer.text(text);
      },
    );
    this.functions.push(writer.toString().trimEnd());
  }

  /** A call or expression that checks `value` at `path` and evaluates to the converted value. */
  private expression(
    model: TypeModel,
    value: string,
    path: string,
    nameHint: string,
    issues = 'issues',
  ): string {
    if (model.kind === 'unknown') return value;
    if (model.kind === 'literal') {
      const values = model.values.map(literalSource).join(', ');
      return `${this.use('checkLiteral')}(${value}, ${path}, ${issues}, [${values}], ${quote(describe(model, this.definitions))})`;
    }
    const leaf = leafChecks[model.kind];
    if (leaf) {
      const mode = model.kind === 'date' || model.kind === 'bigint' ? `, ${this.mode()}` : '';
      return `${this.use(leaf)}(${value}, ${path}, ${issues}${mode})`;
    }
    const name = model.kind === 'ref' ? this.definition(model.name) : this.composite(model, nameHint);
    return `${name}(${value}, ${path}, issues, ${this.mode()})`;
  }

  private mode(): string {
    this.readsMode = true;
    return 'mode';
  }

  /** A union member as a Check: a leaf helper by name, or a wrapper for literals. */
  private check(model: TypeModel, nameHint: string): string {
    const leaf = leafChecks[model.kind];
    if (leaf) return this.use(leaf);
    if (model.kind === 'literal') {
      return `(value, itemPath, itemIssues) => ${this.expression(model, 'value', 'itemPath', nameHint, 'itemIssues')}`;
    }
    if (model.kind === 'ref') return this.definition(model.name);
    return this.composite(model, nameHint);
  }

  private definition(definitionName: string): string {
    const known = this.definitionFunctions.get(definitionName);
    if (known) return known;
    const name = this.reserve(`${this.prefix}${pascalCase(definitionName)}`);
    this.definitionFunctions.set(definitionName, name);
    this.emitComposite(name, resolve({ kind: 'ref', name: definitionName }, this.definitions));
    return name;
  }

  private composite(model: TypeModel, nameHint: string): string {
    const name = this.reserve(nameHint);
    this.emitComposite(name, model);
    return name;
  }

  private emitComposite(name: string, model: TypeModel): void {
    if (model.kind === 'object') this.emitObject(name, model, undefined);
    else if (model.kind === 'array') this.emitArray(name, model.element);
    else if (model.kind === 'tuple') this.emitTuple(name, model.elements);
    else if (model.kind === 'union' && model.discriminant)
      this.emitTagged(name, model.members, model.discriminant);
    else if (model.kind === 'union') this.emitUnion(name, model.members);
    else {
      this.emitFunction(name, (writer) =>
        writer.line(`return ${this.expression(model, 'input', 'path', name)};`),
      );
    }
  }

  private guard(writer: CodeWriter, test: string, description: string): void {
    writer.block(`if (${test}) {`, () => {
      writer.line(`${this.use('expected')}(issues, path, '${description}', input);`);
      writer.line('return input;');
    });
  }

  private emitObject(name: string, model: ObjectModel, structured: StructuredModel | undefined): void {
    const allowedKeys = structured?.keys ?? model.properties.map((property) => property.name);
    const properties = model.properties.filter((property) => allowedKeys.includes(property.name));
    const strict = (this.strict || structured !== undefined) && model.rest === undefined;
    const body = (writer: CodeWriter) => {
      this.guard(writer, `!${this.use('isRecord')}(input)`, 'object');
      if (strict)
        writer.line(
          `${this.use('checkUnknownKeys')}(input, [${allowedKeys.map(quote).join(', ')}], path, issues);`,
        );
      const keepExtra = !strict && (model.rest === undefined || model.rest.kind === 'unknown');
      writer.line(`const output: Record<string, unknown> = ${keepExtra ? '{ ...input }' : '{}'};`);
      for (const property of properties) {
        const access = `input[${quote(property.name)}]`;
        const childPath = `\`\${path}${templateText(pathSegment(property.name))}\``;
        const hint = `${name}${pascalCase(property.name)}`;
        const target = `output[${quote(property.name)}]`;
        const fallback = structured?.defaults[property.name];
        const required = !property.optional || structured?.required.includes(property.name) === true;
        if (fallback !== undefined) {
          const value = `${access} === undefined ? ${staticSource(fallback)} : ${access}`;
          writer.line(`${target} = ${this.expression(property.type, value, childPath, hint)};`);
        } else if (required) {
          const description = quote(describe(property.type, this.definitions));
          writer.line(
            `if (${access} === undefined) ${this.use('expected')}(issues, ${childPath}, ${description}, undefined);`,
          );
          writer.line(`else ${target} = ${this.expression(property.type, access, childPath, hint)};`);
        } else {
          writer.line(
            `if (${access} !== undefined) ${target} = ${this.expression(property.type, access, childPath, hint)};`,
          );
        }
      }
      if (model.rest !== undefined && model.rest.kind !== 'unknown') this.writeRest(writer, model, name);
      writer.line('return output;');
    };
    this.emitFunction(name, body);
  }

  private writeRest(writer: CodeWriter, model: ObjectModel, name: string): void {
    const rest = model.rest!;
    writer.block('for (const [key, value] of Object.entries(input)) {', () => {
      if (model.properties.length > 0) {
        const known = model.properties.map((property) => quote(property.name)).join(', ');
        writer.line(`if ([${known}].includes(key)) continue;`);
      }
      const path = `${this.use('keyPath')}(path, key)`;
      writer.line(`output[key] = ${this.expression(rest, 'value', path, `${name}Value`)};`);
    });
  }

  private emitArray(name: string, element: TypeModel): void {
    this.emitFunction(name, (writer) => {
      this.guard(writer, '!Array.isArray(input)', 'array');
      if (element.kind === 'unknown') {
        writer.line('return [...input];');
        return;
      }
      // biome-ignore lint/suspicious/noTemplateCurlyInString: this is the source text of a template literal
      const item = this.expression(element, 'item', '`${path}[${index}]`', `${name}Item`);
      writer.line(`return input.map((item: unknown, index: number) => ${item});`);
    });
  }

  private emitTuple(name: string, elements: readonly TypeModel[]): void {
    this.emitFunction(name, (writer) => {
      this.guard(writer, '!Array.isArray(input)', 'array');
      writer.block(`if (input.length !== ${elements.length}) {`, () => {
        writer.line(
          `issues.push({ path, message: \`expected ${elements.length} items, got \${input.length}\` });`,
        );
        writer.line('return input;');
      });
      const items = elements.map((element, index) =>
        this.expression(element, `input[${index}]`, `\`\${path}[${index}]\``, `${name}At${index}`),
      );
      writer.line(`return [${items.join(', ')}];`);
    });
  }

  private emitTagged(name: string, members: readonly TypeModel[], tag: string): void {
    const cases = members.map((member) => {
      const shape = resolve(member, this.definitions) as ObjectModel;
      const values = shape.properties.find((property) => property.name === tag)!.type;
      return { member, values: values.kind === 'literal' ? values.values : [] };
    });
    const all = cases.flatMap((item) => item.values);
    this.emitFunction(name, (writer) => {
      this.guard(writer, `!${this.use('isRecord')}(input)`, 'object');
      const access = `input[${quote(tag)}]`;
      writer.block(`switch (${access}) {`, () => {
        for (const { member, values } of cases) {
          for (const value of values) writer.line(`case ${literalSource(value)}:`);
          const hint = `${name}${pascalCase(String(values[0]))}`;
          writer.line(`  return ${this.expression(member, 'input', 'path', hint)};`);
        }
        writer.line('default:');
        const description = quote(all.map((value) => JSON.stringify(value)).join(' | '));
        const tagPath = `\`\${path}${templateText(pathSegment(tag))}\``;
        writer.line(
          `  ${this.use('checkLiteral')}(${access}, ${tagPath}, issues, [${all.map(literalSource).join(', ')}], ${description});`,
        );
        writer.line('  return input;');
      });
    });
  }

  private emitUnion(name: string, members: readonly TypeModel[]): void {
    const description = quote(
      describe({ kind: 'union', members, discriminant: undefined }, this.definitions),
    );
    this.emitFunction(name, (writer) => {
      const checks = members.map((member, index) => this.check(member, `${name}Option${index + 1}`));
      writer.line(`return ${this.use('firstMatch')}(input, path, issues, ${this.mode()}, ${description}, [`);
      for (const check of checks) writer.line(`  ${check},`);
      writer.line(']);');
    });
  }
}
