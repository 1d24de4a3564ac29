import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  getWorkerDefinition,
  type JobBuilder,
  type JobSpec,
  KobanValidationError,
  type WorkerClass,
  type WorkerEntry,
} from '../../index.js';
import * as seed from './cases/seed/src/koban.gen.js';
import { issuesOf } from './helpers.js';

/** The parts of a generated module these tests use, for modules loaded by path. */
interface GeneratedModule {
  readonly workers: readonly WorkerEntry[];
  readonly fixtures: Record<
    string,
    { args(): unknown; invalid(): readonly { args: unknown; error: string }[] }
  >;
  readonly [builder: string]: unknown;
}

type Builder = JobBuilder<WorkerClass<unknown>>;

// The shapes case uses bundler-style imports, which the repo's NodeNext config can't check, so it
// is loaded by a path the compiler does not follow.
const shapesPath = './cases/shapes/src/generated/jobs.gen.js';
// The relay worker imports the generated module, which imports the relay worker back. Loading the
// worker first is the order in which a class would still be uninitialised when the module runs.
const relayPath = './cases/shapes/src/workers/relay.js';
const { RelayWorker } = (await import(/* @vite-ignore */ relayPath)) as {
  RelayWorker: new () => { process(job: { args: { to: string } }): Promise<JobSpec> };
};
const shapes = (await import(/* @vite-ignore */ shapesPath)) as GeneratedModule;
const modules: [string, GeneratedModule][] = [
  ['seed', seed as unknown as GeneratedModule],
  ['shapes', shapes],
];

function builderOf(module: GeneratedModule, name: string): Builder {
  return module[name] as Builder;
}

function jsonRoundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe.each(modules)('the %s module', (_name, module) => {
  const names = Object.keys(module.fixtures);

  it('registers every worker once, sorted by class name, with its args codec', () => {
    const classNames = module.workers.map((entry) => entry.worker.name);
    expect(classNames).toEqual([...classNames].sort());
    expect(classNames).toEqual(names.map((name) => builderOf(module, name).worker.name));
    for (const name of names) {
      const entry = module.workers.find((item) => item.worker === builderOf(module, name).worker)!;
      expect(entry.args).toBe(builderOf(module, name).codec);
    }
  });

  it.each(names)('%s: fixture args build a job and survive encode, JSON and decode', (name) => {
    const builder = builderOf(module, name);
    const args = module.fixtures[name]!.args();
    const spec = builder.new(args, { priority: 3 });
    expect(spec).toMatchObject({
      worker: builder.worker,
      args,
      options: { priority: 3 },
      codec: builder.codec,
    });
    const stored = jsonRoundTrip(builder.codec.encode(args));
    expect(builder.codec.decode(stored)).toEqual(args);
  });

  it.each(names)('%s: every invalid fixture is rejected with the issue it names', (name) => {
    const builder = builderOf(module, name);
    const cases = module.fixtures[name]!.invalid();
    expect(cases.length).toBeGreaterThan(0);
    for (const { args, error } of cases) {
      expect(issuesOf(() => builder.new(args))).toContain(error);
      expect(issuesOf(() => builder.codec.decode(args))).toContain(error);
    }
  });
});

describe('generated validators', () => {
  const { OrderWorker, NotifyWorker, TreeWorker, RenamedWorker } = {
    OrderWorker: builderOf(shapes, 'OrderWorker'),
    NotifyWorker: builderOf(shapes, 'NotifyWorker'),
    TreeWorker: builderOf(shapes, 'TreeWorker'),
    RenamedWorker: builderOf(shapes, 'RenamedWorker'),
  };
  const order = () => shapes.fixtures.OrderWorker!.args() as Record<string, unknown>;

  it('lists every problem with its path, and names the worker', () => {
    const items = [
      { sku: 'a', quantity: 1 },
      { sku: 'b', quantity: 2 },
      { sku: 7, quantity: 'three', note: 5 },
    ];
    const run = () => OrderWorker.new({ ...order(), items, status: 'lost', coupon: 9 });
    expect(run).toThrow(KobanValidationError);
    expect(issuesOf(run)).toEqual([
      'args.items[2].sku: expected string, got number',
      'args.items[2].quantity: expected number, got string',
      'args.items[2].note: expected string | null, got number',
      'args.status: expected "new" | "paid", got "lost"',
      'args.coupon: expected string, got number',
    ]);
    expect(run).toThrow(/args\.items\[2\]\.sku: expected string, got number; .* \(OrderWorker\)$/);
  });

  it('stores Date and bigint as ISO and decimal strings and turns them back', () => {
    const args = {
      ...order(),
      placedAt: new Date('2025-03-04T05:06:07.000Z'),
      amount: 12345678901234567890n,
    };
    const stored = OrderWorker.codec.encode(args) as Record<string, unknown>;
    expect(stored.placedAt).toBe('2025-03-04T05:06:07.000Z');
    expect(stored.amount).toBe('12345678901234567890');
    const decoded = OrderWorker.codec.decode(jsonRoundTrip(stored)) as Record<string, unknown>;
    expect(decoded.placedAt).toEqual(new Date('2025-03-04T05:06:07.000Z'));
    expect(decoded.amount).toBe(12345678901234567890n);
    const bad = { ...(jsonRoundTrip(stored) as object), placedAt: 'yesterday', amount: '1.5' };
    expect(issuesOf(() => OrderWorker.codec.decode(bad))).toEqual([
      'args.placedAt: expected an ISO date string, got "yesterday"',
      'args.amount: expected a decimal integer string, got "1.5"',
    ]);
    expect(issuesOf(() => OrderWorker.new({ ...order(), placedAt: new Date('nope') }))).toEqual([
      'args.placedAt: expected a valid Date, got an invalid Date',
    ]);
  });

  it('checks records, tuples, enums and unions without a tag', () => {
    const run = () =>
      OrderWorker.new({
        ...order(),
        attributes: { color: 'red', 'size-eu': 42 },
        point: [1],
        priority: 7,
        channel: 'Web',
        delivery: { url: 5 },
      });
    expect(issuesOf(run)).toEqual([
      'args.attributes["size-eu"]: expected string, got number',
      'args.priority: expected 0 | 1 | 2, got 7',
      'args.channel: expected "store" | "web", got "Web"',
      'args.point: expected 2 items, got 1',
      'args.delivery.url: expected string, got number',
    ]);
  });

  it('dispatches tagged unions on their tag', () => {
    expect(() => NotifyWorker.new({ kind: 'sms', phone: '+3312345678' })).not.toThrow();
    expect(issuesOf(() => NotifyWorker.new({ kind: 'sms', to: 'x' }))).toEqual([
      'args.phone: expected string, got undefined',
    ]);
    expect(issuesOf(() => NotifyWorker.new({ kind: 'fax' }))).toEqual([
      'args.kind: expected "email" | "push" | "sms", got "fax"',
    ]);
  });

  it('follows self-referencing types to any depth', () => {
    const leaf = (name: unknown) => ({ name, children: [] });
    const root = { name: 'root', children: [{ name: 'a', children: [leaf('b'), leaf(3)] }] };
    expect(issuesOf(() => TreeWorker.new({ root, owner: { id: 'u1' } }))).toEqual([
      'args.root.children[0].children[1].name: expected string, got number',
    ]);
  });

  it('keeps extra keys for plain workers and rejects them, at every level, for structured ones', () => {
    const { ImportWorker, AuditWorker } = seed;
    const extra = { importId: 1, source: 'csv' } as unknown as Parameters<typeof ImportWorker.new>[0];
    expect(ImportWorker.codec.encode(extra)).toEqual({ importId: 1, source: 'csv' });
    const audit = { userId: 'u1', action: 'create', ip: '10.0.0.1' } as unknown as Parameters<
      typeof AuditWorker.new
    >[0];
    expect(issuesOf(() => AuditWorker.new(audit))).toEqual([
      'args.ip: unknown key (allowed: userId, action, metadata)',
    ]);
    expect(
      issuesOf(() => TreeWorker.new({ root: { name: 'r', children: [], color: 'red' }, owner: { id: 'u' } })),
    ).toEqual(['args.root.color: unknown key (allowed: name, size, children)']);
  });

  it('fills in @Structured defaults when encoding and decoding', () => {
    const { AuditWorker } = seed;
    expect(AuditWorker.codec.encode({ userId: 'u1', action: 'delete' })).toEqual({
      userId: 'u1',
      action: 'delete',
      metadata: {},
    });
    expect(TreeWorker.codec.decode({ root: { name: 'r', children: [] }, owner: { id: 'u' } })).toMatchObject({
      depth: 3,
    });
  });

  it('enforces @Structured required keys even when the type makes them optional', () => {
    expect(issuesOf(() => TreeWorker.codec.decode({ owner: { id: 'u' } }))).toEqual([
      'args.root: expected object, got undefined',
    ]);
  });

  it('gives @Recorded workers a result codec that converts Date and bigint', () => {
    const entry = seed.workers.find((item) => item.worker === seed.ReportWorker.worker)!;
    const result = { rows: 2, total: 99n, generatedAt: new Date('2025-01-01T00:00:00.000Z') };
    const stored = jsonRoundTrip(entry.result!.encode(result));
    expect(stored).toEqual({ rows: 2, total: '99', generatedAt: '2025-01-01T00:00:00.000Z' });
    expect(entry.result!.decode(stored)).toEqual(result);
    expect(issuesOf(() => entry.result!.decode({ rows: 'x' }))).toEqual([
      'result.rows: expected number, got string',
      'result.total: expected bigint, got undefined',
      'result.generatedAt: expected Date, got undefined',
    ]);
    expect(seed.workers.find((item) => item.worker === seed.ImportWorker.worker)!.result).toBeUndefined();
  });

  it('works when a worker file and the generated module import each other', async () => {
    const spec = await new RelayWorker().process({ args: { to: 'ops@example.com' } });
    expect(spec.worker).toBe(NotifyWorker.worker);
    expect(spec.args).toEqual({ kind: 'email', to: 'ops@example.com', subject: 'relayed' });
    expect(shapes.workers.map((entry) => entry.worker.name)).toContain('RelayWorker');
  });

  it('uses the stored name of renamed workers in errors', () => {
    expect(getWorkerDefinition(RenamedWorker.worker).name).toBe('LegacyWorker');
    expect(() => RenamedWorker.new({ flags: {} })).toThrow(/\(LegacyWorker\)$/);
  });

  it('types builders from the worker class', () => {
    const spec = seed.ExtractWorker.new({ dataId: 1 });
    expectTypeOf(spec).toEqualTypeOf<JobSpec<{ dataId: number }, { rows: number[] }>>();
    expectTypeOf(seed.fixtures.ReportWorker.args).returns.toEqualTypeOf<seed.ReportWorkerArgs>();
    // @ts-expect-error dataId is a number
    expect(() => seed.ExtractWorker.new({ dataId: 'one' })).toThrow(KobanValidationError);
    // @ts-expect-error unique keys may only name args keys
    seed.DigestWorker.new({ userId: 1, type: 'daily' }, { unique: { keys: ['nope'] } });
  });
});
