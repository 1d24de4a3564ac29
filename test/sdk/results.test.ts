import {
  cancel,
  discard,
  isControlOutcome,
  isJobSpec,
  type Job,
  KobanUnknownWorkerError,
  KobanValidationError,
  newJob,
  snooze,
  Worker,
} from 'koban';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('control outcomes', () => {
  it('carry their kind and detail, and are told apart from ordinary return values', () => {
    expect(cancel('customer closed the account')).toMatchObject({
      kind: 'cancel',
      reason: 'customer closed the account',
    });
    expect(discard('bad payload')).toMatchObject({ kind: 'discard', reason: 'bad payload' });
    expect(snooze(30)).toMatchObject({ kind: 'snooze', seconds: 30 });
    expect(snooze(0)).toMatchObject({ kind: 'snooze', seconds: 0 });

    for (const outcome of [cancel('x'), discard('x'), snooze(1)])
      expect(isControlOutcome(outcome)).toBe(true);
    // A recorded result that merely looks like an outcome is still a result.
    for (const value of [
      { kind: 'cancel', reason: 'x' },
      { kind: 'snooze', seconds: 1 },
      null,
      'cancel',
      3,
    ]) {
      expect(isControlOutcome(value)).toBe(false);
    }
  });

  it('rejects a snooze that is not a non-negative number of seconds', () => {
    for (const seconds of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => snooze(seconds)).toThrow(KobanValidationError);
    }
    expect(() => snooze(-1)).toThrow('snooze(seconds): expected a non-negative number of seconds, got -1');
  });
});

describe('newJob', () => {
  @Worker({ queue: 'mailers' })
  class SendReceipt {
    async process(job: Job<{ orderId: number; email: string }>): Promise<{ messageId: string }> {
      return { messageId: `${job.args.orderId}` };
    }
  }

  it('builds a spec of the worker, args and options, typed from process', () => {
    const spec = newJob(SendReceipt, { orderId: 7, email: 'a@example.com' }, { priority: 2, scheduleIn: 60 });
    expect(spec).toEqual({
      worker: SendReceipt,
      args: { orderId: 7, email: 'a@example.com' },
      options: { priority: 2, scheduleIn: 60 },
    });
    expect(isJobSpec(spec)).toBe(true);
    expect(isJobSpec({ worker: SendReceipt })).toBe(false);
    expectTypeOf(spec.args).toEqualTypeOf<{ orderId: number; email: string }>();

    // @ts-expect-error: orderId must be a number
    newJob(SendReceipt, { orderId: '7', email: 'a@example.com' });
    // @ts-expect-error: email is required
    newJob(SendReceipt, { orderId: 7 });
  });
});

describe('error messages', () => {
  it('list every validation issue with its path and the worker', () => {
    const error = new KobanValidationError(
      [
        { path: 'args.userId', message: 'expected string, got undefined' },
        { path: 'args.items[2].sku', message: 'expected string, got number' },
      ],
      'ImportWorker',
    );
    expect(error.code).toBe('validation');
    expect(error.name).toBe('KobanValidationError');
    expect(error.message).toBe(
      'args.userId: expected string, got undefined; args.items[2].sku: expected string, got number (ImportWorker)',
    );
  });

  it('say how to fix an unknown worker', () => {
    const error = new KobanUnknownWorkerError('OldName', ['NewName', 'Other'], 'node-1');
    expect(error.code).toBe('unknown_worker');
    expect(error.message).toContain('no worker named "OldName" runs on node node-1');
    expect(error.message).toContain('it runs: NewName, Other');
    expect(error.message).toContain('went back to the queue with its attempt given back');
    expect(error.message).toContain('@Worker({ name })');
  });
});
