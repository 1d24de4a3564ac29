import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Codec,
  type Job,
  KobanConfigError,
  KobanValidationError,
  newJob,
  Structured,
  type ValidationIssue,
  Worker,
} from '../../index.js';
import { performJob } from '../../runtime/testing.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { exec, rawJob, settled } from './support.js';

type AuditArgs = {
  userId: string;
  action: string;
  metadata?: Record<string, unknown>;
  mode?: 'full' | 'quick';
};
const seen: AuditArgs[] = [];

@Worker({ queue: 'structured', maxAttempts: 5 })
@Structured({
  keys: ['userId', 'action', 'metadata', 'mode'],
  required: ['userId', 'action'],
  defaults: { mode: 'full' },
})
class AuditWorker {
  async process(job: Job<AuditArgs>) {
    seen.push(job.args);
  }
}

type TransferArgs = { amount: number; currency: string };
const transfers: TransferArgs[] = [];

@Worker({ queue: 'structured', maxAttempts: 5 })
@Structured({ keys: ['amount', 'currency'], required: ['amount'], defaults: { currency: 'EUR' } })
class TransferWorker {
  async process(job: Job<TransferArgs>) {
    transfers.push(job.args);
  }
}

/** The shape of the codec `npx gen` writes, by hand: every problem listed, defaults applied. */
const transferCodec: Codec<TransferArgs> = {
  encode: (value) => check(value),
  decode: (data) => check(data),
};
function check(value: unknown): TransferArgs {
  const args = { currency: 'EUR', ...(value as object) } as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  if (typeof args.amount !== 'number')
    issues.push({ path: 'args.amount', message: `expected number, got ${typeof args.amount}` });
  if (typeof args.currency !== 'string')
    issues.push({ path: 'args.currency', message: `expected string, got ${typeof args.currency}` });
  for (const key of Object.keys(args)) {
    if (key !== 'amount' && key !== 'currency') issues.push({ path: `args.${key}`, message: 'unknown key' });
  }
  if (issues.length > 0) throw new KobanValidationError(issues, 'TransferWorker');
  return args as TransferArgs;
}

@Worker({ queue: 'structured' })
// @ts-expect-error: 'b' is not a key of the args (the compiler says so too, and start fails as tested below)
@Structured({ keys: ['a'], required: ['b'] })
class MisconfiguredWorker {
  async process(_job: Job<{ a: number }>) {}
}

const workers = [AuditWorker, { worker: TransferWorker, args: transferCodec }];
let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

const start = (queues: Record<string, number> = { structured: 2 }) =>
  startKoban({ database: url, queues, workers });

function issuesOf(attempt: () => unknown): string[] {
  try {
    attempt();
  } catch (error) {
    if (error instanceof KobanValidationError)
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected a KobanValidationError');
}

describe('@Structured at insert, without a generated codec (runtime/structured.ts)', () => {
  it('rejects unknown keys and missing required keys, listing every problem with its path', async () => {
    const koban = await start({});
    const attempt = koban.insert(newJob(AuditWorker, { userId: 'u', extra: 1, other: 2 } as never));
    await expect(attempt).rejects.toThrow(KobanValidationError);
    await expect(attempt).rejects.toThrow(
      'args.extra: unknown key; expected only userId, action, metadata, mode; ' +
        'args.other: unknown key; expected only userId, action, metadata, mode; ' +
        'args.action: required, got undefined (AuditWorker)',
    );
    await expect(koban.insert(newJob(AuditWorker, { userId: null, action: 'x' } as never))).rejects.toThrow(
      'args.userId: required, got null (AuditWorker)',
    );
  });

  it('applies defaults for missing keys and keeps given values', async () => {
    const koban = await start({});
    const defaulted = await koban.insert(newJob(AuditWorker, { userId: 'u', action: 'login' }));
    const given = await koban.insert(newJob(AuditWorker, { userId: 'u', action: 'login', mode: 'quick' }));
    expect((await rawJob(url, defaulted.id)).args).toEqual({ userId: 'u', action: 'login', mode: 'full' });
    expect((await rawJob(url, given.id)).args).toEqual({ userId: 'u', action: 'login', mode: 'quick' });
  });

  it('performJob enforces the same contract', async () => {
    await expect(performJob(AuditWorker, { userId: 'u', action: 'a', nope: true } as never)).rejects.toThrow(
      /args\.nope: unknown key/,
    );
    expect(await performJob(AuditWorker, { userId: 'perform', action: 'a' })).toMatchObject({
      kind: 'completed',
    });
    expect(seen).toContainEqual({ userId: 'perform', action: 'a', mode: 'full' });
  });

  it('rejects a contradictory @Structured at start', async () => {
    const starting = startKoban({ database: url, queues: {}, workers: [MisconfiguredWorker] });
    await expect(starting).rejects.toThrow(KobanConfigError);
    await expect(starting).rejects.toThrow(
      /MisconfiguredWorker @Structured: b is required or defaulted but not in keys/,
    );
  });
});

describe('@Structured at insert, with a codec', () => {
  it("validates a raw spec that skipped the builder with the catalog entry's codec", async () => {
    const koban = await start({});
    expect(issuesOf(() => transferCodec.encode({ amount: 'ten', fee: 1 } as never))).toEqual([
      'args.amount: expected number, got string',
      'args.fee: unknown key',
    ]);
    await expect(koban.insert(newJob(TransferWorker, { amount: 'ten', fee: 1 } as never))).rejects.toThrow(
      'args.amount: expected number, got string; args.fee: unknown key (TransferWorker)',
    );
    const job = await koban.insert(newJob(TransferWorker, { amount: 10 } as TransferArgs));
    expect((await rawJob(url, job.id)).args).toEqual({ amount: 10, currency: 'EUR' });
  });

  it("prefers the spec's own codec (from the builder) to the catalog entry's", async () => {
    const koban = await start({});
    const strict: Codec<TransferArgs> = {
      encode: () => {
        throw new KobanValidationError([{ path: 'args', message: 'from the spec codec' }], 'TransferWorker');
      },
      decode: (data) => data as TransferArgs,
    };
    await expect(
      koban.insert(newJob(TransferWorker, { amount: 1, currency: 'USD' }, {}, strict)),
    ).rejects.toThrow('args: from the spec codec (TransferWorker)');
  });
});

describe('@Structured before process', () => {
  it('cancels, not retries, a stored job whose args no longer validate, with the error recorded', async () => {
    const koban = await start({});
    const noCodec = await koban.insert(newJob(AuditWorker, { userId: 'edited', action: 'a' }));
    const withCodec = await koban.insert(newJob(TransferWorker, { amount: 5, currency: 'USD' }));
    await exec(url, `UPDATE koban.jobs SET args = '{"userId": "edited", "surprise": true}' WHERE id = $1`, [
      noCodec.id,
    ]);
    await exec(url, `UPDATE koban.jobs SET args = '{"amount": "lots"}' WHERE id = $1`, [withCodec.id]);
    const runner = await start();
    const a = await settled(runner, noCodec.id);
    const b = await settled(runner, withCodec.id);
    expect(a).toMatchObject({ state: 'cancelled', attempt: 1 });
    expect(a.errors).toHaveLength(1);
    expect(a.errors[0]!.error).toBe(
      'KobanValidationError: args.surprise: unknown key; expected only userId, action, metadata, mode; ' +
        'args.action: required, got undefined (AuditWorker)',
    );
    expect(b).toMatchObject({ state: 'cancelled', attempt: 1 });
    expect(b.errors[0]!.error).toBe(
      'KobanValidationError: args.amount: expected number, got string (TransferWorker)',
    );
    expect(seen.some((args) => args.userId === 'edited')).toBe(false);
    expect(transfers.some((args) => args.currency === 'USD')).toBe(false);
  });

  it('fills defaults into stored args that lack them before process sees them', async () => {
    const koban = await start({});
    const job = await koban.insert(newJob(AuditWorker, { userId: 'old-row', action: 'a' }));
    await exec(url, `UPDATE koban.jobs SET args = args - 'mode' WHERE id = $1`, [job.id]);
    const runner = await start();
    expect((await settled(runner, job.id)).state).toBe('completed');
    expect(seen).toContainEqual({ userId: 'old-row', action: 'a', mode: 'full' });
  });
});
