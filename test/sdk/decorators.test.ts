import {
  defineWorker,
  Encrypted,
  getWorkerDefinition,
  isWorkerClass,
  type Job,
  KobanConfigError,
  KobanError,
  Recorded,
  registeredWorkers,
  Structured,
  Worker,
  type WorkerOptions,
} from 'koban';
import { describe, expect, it } from 'vitest';

/** Runs `define` and returns the KobanConfigError it throws, failing the test if it throws anything else. */
function configError(define: () => unknown): KobanConfigError {
  try {
    define();
  } catch (error) {
    expect(error).toBeInstanceOf(KobanConfigError);
    expect(error).toBeInstanceOf(KobanError);
    expect((error as KobanConfigError).code).toBe('config');
    return error as KobanConfigError;
  }
  throw new Error('expected a KobanConfigError, but nothing was thrown');
}

const sameShape = {
  queue: 'imports',
  maxAttempts: 5,
  priority: 3,
  tags: ['etl', 'nightly'],
  timeout: 30_000,
};

describe('one registry for @Worker and defineWorker', () => {
  it('gives the same definition whichever way a worker is declared', () => {
    @Worker({ ...sameShape, name: 'decorated-import' })
    class DecoratedImport {
      async process(_job: Job<{ importId: number }>) {}
    }

    class PlainImport {
      async process(_job: Job<{ importId: number }>) {}
    }
    const returned = defineWorker(PlainImport, { ...sameShape, name: 'plain-import' });

    expect(returned).toBe(PlainImport);
    const decorated = getWorkerDefinition(DecoratedImport);
    const plain = getWorkerDefinition(PlainImport);
    expect(decorated).toEqual({
      name: 'decorated-import',
      className: 'DecoratedImport',
      queue: 'imports',
      maxAttempts: 5,
      priority: 3,
      tags: ['etl', 'nightly'],
      timeout: 30_000,
      unique: undefined,
      structured: undefined,
      recorded: undefined,
      encrypted: undefined,
      weight: 1,
    });
    expect({ ...plain, name: decorated.name, className: decorated.className }).toEqual(decorated);

    expect(registeredWorkers().get('decorated-import')).toBe(DecoratedImport);
    expect(registeredWorkers().get('plain-import')).toBe(PlainImport);
    expect(isWorkerClass(DecoratedImport)).toBe(true);
    expect(isWorkerClass(PlainImport)).toBe(true);
  });

  it('keeps the class itself: the decorator neither wraps nor replaces it', async () => {
    @Worker()
    class Echo {
      async process(job: Job<{ word: string }>) {
        return job.args.word;
      }
    }
    expect(registeredWorkers().get('Echo')).toBe(Echo);
    const result = await new Echo().process({ args: { word: 'hi' } } as Job<{ word: string }>);
    expect(result).toBe('hi');
  });

  it('fills in the defaults', () => {
    @Worker()
    class Defaults {
      process() {}
    }
    expect(getWorkerDefinition(Defaults)).toMatchObject({
      name: 'Defaults',
      className: 'Defaults',
      queue: 'default',
      maxAttempts: 20,
      priority: 0,
      tags: [],
      timeout: undefined,
    });
  });
});

describe('stored name', () => {
  it('defaults to the class name', () => {
    @Worker({ queue: 'mailers' })
    class WelcomeMail {
      process() {}
    }
    expect(getWorkerDefinition(WelcomeMail).name).toBe('WelcomeMail');
    expect(registeredWorkers().get('WelcomeMail')).toBe(WelcomeMail);
  });

  it('can be overridden, so that renaming the class keeps queued jobs running', () => {
    @Worker({ name: 'Legacy.Mailer' })
    class RenamedMailer {
      process() {}
    }
    const definition = getWorkerDefinition(RenamedMailer);
    expect(definition.name).toBe('Legacy.Mailer');
    expect(definition.className).toBe('RenamedMailer');
    expect(registeredWorkers().get('Legacy.Mailer')).toBe(RenamedMailer);
    expect(registeredWorkers().has('RenamedMailer')).toBe(false);
  });

  it('is an error when two classes claim the same name', () => {
    @Worker({ name: 'billing.charge' })
    class ChargeCard {
      process() {}
    }
    const error = configError(() => {
      @Worker({ name: 'billing.charge' })
      class ChargeInvoice {
        process() {}
      }
      return ChargeInvoice;
    });
    expect(error.message).toContain('ChargeInvoice');
    expect(error.message).toContain('"billing.charge"');
    expect(error.message).toContain('@Worker({ name })');
    expect(registeredWorkers().get('billing.charge')).toBe(ChargeCard);
  });

  it('is an error when two classes of the same class name meet without an override', () => {
    const first = (() => {
      @Worker()
      class SyncAccount {
        process() {}
      }
      return SyncAccount;
    })();
    const error = configError(() => {
      class SyncAccount {
        process() {}
      }
      defineWorker(SyncAccount);
    });
    expect(error.message).toContain('worker SyncAccount');
    expect(error.message).toContain('"SyncAccount" is already taken');
    expect(registeredWorkers().get('SyncAccount')).toBe(first);
  });

  it('lets the same class be defined again (module reloads)', () => {
    @Worker({ queue: 'first' })
    class Reloaded {
      process() {}
    }
    expect(() => defineWorker(Reloaded, { queue: 'second' })).not.toThrow();
    expect(getWorkerDefinition(Reloaded).queue).toBe('second');
    expect(registeredWorkers().get('Reloaded')).toBe(Reloaded);
  });
});

describe('bad options', () => {
  const cases: { option: string; options: Record<string, unknown>; fragments: string[] }[] = [
    { option: 'queue', options: { queue: '' }, fragments: ['queue must be', '""'] },
    { option: 'queue', options: { queue: 'has space' }, fragments: ['queue must be', '"has space"'] },
    { option: 'queue', options: { queue: '9lives' }, fragments: ['queue must be', '"9lives"'] },
    { option: 'queue', options: { queue: 'q'.repeat(129) }, fragments: ['queue must be', 'at most 128'] },
    { option: 'queue', options: { queue: 42 }, fragments: ['queue must be', 'got 42'] },
    { option: 'maxAttempts', options: { maxAttempts: 0 }, fragments: ['maxAttempts must be', 'got 0'] },
    { option: 'maxAttempts', options: { maxAttempts: 2.5 }, fragments: ['maxAttempts must be', 'got 2.5'] },
    { option: 'priority', options: { priority: 12 }, fragments: ['priority must be', '0 to 9', 'got 12'] },
    { option: 'priority', options: { priority: -1 }, fragments: ['priority must be', 'got -1'] },
    { option: 'timeout', options: { timeout: -5 }, fragments: ['timeout must be', 'got -5'] },
    { option: 'timeout', options: { timeout: 0 }, fragments: ['timeout must be', 'got 0'] },
    { option: 'tags', options: { tags: ['ok', 7] }, fragments: ['tags must be', '["ok",7]'] },
    { option: 'tags', options: { tags: 'urgent' }, fragments: ['tags must be', '"urgent"'] },
    { option: 'name', options: { name: '  ' }, fragments: ['name must be', '"  "'] },
  ];

  it.each(cases)(
    'rejects $option $options with @Worker, naming the class and the option',
    ({ options, fragments }) => {
      const error = configError(() => {
        @Worker(options as WorkerOptions)
        class BadlyConfigured {
          process() {}
        }
        return BadlyConfigured;
      });
      expect(error.message).toContain('worker BadlyConfigured');
      for (const fragment of fragments) expect(error.message).toContain(fragment);
    },
  );

  it.each(cases)(
    'rejects $option $options with defineWorker, naming the class and the option',
    ({ options, fragments }) => {
      class PlainBadlyConfigured {
        process() {}
      }
      const error = configError(() => defineWorker(PlainBadlyConfigured, options as WorkerOptions));
      expect(error.message).toContain('worker PlainBadlyConfigured');
      for (const fragment of fragments) expect(error.message).toContain(fragment);
      expect(isWorkerClass(PlainBadlyConfigured)).toBe(false);
      expect(registeredWorkers().has('PlainBadlyConfigured')).toBe(false);
    },
  );

  it('accepts the edges of each range', () => {
    class Edges {
      process() {}
    }
    defineWorker(Edges, { queue: `_${'q'.repeat(127)}`, maxAttempts: 1, priority: 9, tags: [], timeout: 1 });
    expect(getWorkerDefinition(Edges)).toMatchObject({ maxAttempts: 1, priority: 9, tags: [], timeout: 1 });
  });
});

describe('decorator order', () => {
  const structured = { keys: ['userId', 'action', 'metadata'], required: ['userId', 'action'] } as const;
  const key = () => 'k'.repeat(32);

  it('gives the same definition with the feature decorators above or below @Worker', () => {
    @Worker({ queue: 'secure', name: 'audit-below' })
    @Structured(structured)
    @Encrypted({ key })
    @Recorded({ limit: 1024 })
    class AuditBelow {
      async process(_job: Job<{ userId: number; action: string; metadata?: object }>) {
        return { ok: true };
      }
    }

    @Structured(structured)
    @Encrypted({ key })
    @Recorded({ limit: 1024 })
    @Worker({ queue: 'secure', name: 'audit-above' })
    class AuditAbove {
      async process(_job: Job<{ userId: number; action: string; metadata?: object }>) {
        return { ok: true };
      }
    }

    @Structured(structured)
    @Worker({ queue: 'secure', name: 'audit-between' })
    @Encrypted({ key })
    @Recorded({ limit: 1024 })
    class AuditBetween {
      async process(_job: Job<{ userId: number; action: string; metadata?: object }>) {
        return { ok: true };
      }
    }

    const below = getWorkerDefinition(AuditBelow);
    expect(below).toMatchObject({
      queue: 'secure',
      structured,
      encrypted: { key },
      recorded: { limit: 1024 },
    });
    for (const other of [getWorkerDefinition(AuditAbove), getWorkerDefinition(AuditBetween)]) {
      expect({ ...other, name: below.name, className: below.className }).toEqual(below);
    }
  });

  it('turns recorded: true into default recorded options', () => {
    @Recorded()
    @Worker()
    class RecordedDefault {
      process() {
        return 1;
      }
    }
    class RecordedPlain {
      process() {
        return 1;
      }
    }
    defineWorker(RecordedPlain, { recorded: true });
    expect(getWorkerDefinition(RecordedDefault).recorded).toEqual({});
    expect(getWorkerDefinition(RecordedPlain).recorded).toEqual({});
  });

  it('does not make a worker of a class that has only a feature decorator', () => {
    @Structured({ required: ['id'] })
    class OnlyStructured {
      process(_job: Job<{ id: number }>) {}
    }
    expect(isWorkerClass(OnlyStructured)).toBe(false);
    const error = configError(() => getWorkerDefinition(OnlyStructured));
    expect(error.message).toContain('OnlyStructured is not a worker');
    expect(error.message).toContain('@Worker()');
  });
});

describe('what is not a worker', () => {
  it('rejects a class without process, with either form', () => {
    const decorated = configError(() => {
      // @ts-expect-error: the decorator's type already requires process(job)
      @Worker()
      class NoProcess {
        run() {}
      }
      return NoProcess;
    });
    expect(decorated.message).toContain('worker NoProcess');
    expect(decorated.message).toContain('process(job)');

    class AlsoNoProcess {
      perform() {}
    }
    const plain = configError(() => defineWorker(AlsoNoProcess as never));
    expect(plain.message).toContain('worker AlsoNoProcess');
    expect(plain.message).toContain('process(job)');
    expect(registeredWorkers().has('NoProcess')).toBe(false);
    expect(registeredWorkers().has('AlsoNoProcess')).toBe(false);
  });

  it('rejects a feature decorator on a class without process', () => {
    const error = configError(() => {
      // @ts-expect-error: the decorator's type already requires process(job)
      @Recorded()
      class NotAWorker {
        handle() {}
      }
      return NotAWorker;
    });
    expect(error.message).toContain('@Recorded on NotAWorker');
  });

  it('rejects values that are not classes', () => {
    expect(configError(() => defineWorker({ process() {} } as never)).message).toContain(
      'a worker must be a class with a process(job) method',
    );
    expect(configError(() => defineWorker(undefined as never)).message).toContain('(anonymous class)');
  });

  it('refuses to describe an undecorated class', () => {
    class Plain {
      process() {}
    }
    expect(isWorkerClass(Plain)).toBe(false);
    expect(configError(() => getWorkerDefinition(Plain)).message).toContain(
      'Plain is not a worker: decorate it with @Worker() or call defineWorker(Class, options)',
    );
  });
});
