import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../codegen/config.js';
import { KobanCodegenError } from '../../codegen/errors.js';
import { generate } from '../../codegen/generate.js';
import { runGen, tempProject } from './helpers.js';

function problemsOf(root: string): string[] {
  try {
    generate(loadConfig(root, {}));
  } catch (error) {
    if (!(error instanceof KobanCodegenError)) throw error;
    expect(error.code).toBe('codegen');
    return error.problems.map((problem) => `${problem.file}:${problem.line}: ${problem.message}`);
  }
  throw new Error('expected gen to fail');
}

describe('gen-time errors name the file and line, and say what to write instead', () => {
  const project = tempProject({
    'src/names.ts': `import { type Job, Worker } from 'koban';

@Worker({ name: 'Mailer' })
export class EmailWorker {
  async process(_job: Job<{ to: string }>) {}
}

@Worker()
export class Mailer {
  async process(_job: Job<{ to: string }>) {}
}
`,
    'src/shape.ts': `import { type Job, Structured, Worker } from 'koban';

@Worker()
export class NoProcessWorker {
  run(_job: Job<{ id: number }>) {}
}

@Worker({ unique: { period: 60, keys: ['userId', 'type'] } })
export class UniqueWorker {
  async process(_job: Job<{ userId: number }>) {}
}

@Worker()
@Structured({ keys: ['id', 'label'], required: ['id'] })
export class StructuredWorker {
  async process(_job: Job<{ id: number; name: string }>) {}
}

@Structured()
export class NotAWorker {
  async process(_job: Job<{ id: number }>) {}
}

@Worker()
class HiddenWorker {
  async process(_job: Job<{ id: number }>) {}
}
export const hidden = HiddenWorker;

@Worker({
  structured: { keys: ['id', 'nope'] },
})
export class InlineStructuredWorker {
  async process(_job: Job<{ id: number }>) {}
}
`,
    'src/json.ts': `import { type Job, Worker } from 'koban';

class Money {
  constructor(readonly cents: number) {}
}

interface Args {
  callback: () => void;
  lookup: Map<string, number>;
  ids: Set<number>;
  price: Money;
  key: symbol;
  bytes: Uint8Array;
}

@Worker()
export class JsonWorker {
  async process(_job: Job<Args>) {}
}
`,
    'src/clash.ts': `import { type Job, Recorded, Worker } from 'koban';

@Worker()
@Recorded()
export class RecordedFetcher {
  async process(_job: Job<{ id: number }>) {}
}
`,
    'src/literals.ts': `import { type Job, Worker } from 'koban';

const queueFromEnv = process.env.QUEUE ?? 'default';

@Worker({ queue: queueFromEnv, maxAttempts: Math.max(1, 3) })
export class DynamicWorker {
  async process(_job: Job<{ id: number }>) {}
}

@Worker({ queue: 'bad queue!' })
export class BadQueueWorker {
  async process(_job: Job<{ id: number }>) {}
}
`,
  });
  afterAll(() => project.remove());
  const problems = problemsOf(project.root);

  it('two workers with the same stored name', () => {
    expect(problems).toContain(
      'src/names.ts:3: EmailWorker (src/names.ts:3) and Mailer (src/names.ts:8) have the same stored name "Mailer"',
    );
    expect(problems).toContain(
      'src/names.ts:8: EmailWorker (src/names.ts:3) and Mailer (src/names.ts:8) have the same stored name "Mailer"',
    );
  });

  it('@Worker on a class without process, or a feature decorator without @Worker', () => {
    expect(problems).toContain(
      'src/shape.ts:3: NoProcessWorker: @Worker is on a class without a process method',
    );
    expect(problems).toContain('src/shape.ts:19: NotAWorker: @Structured is on a class without @Worker');
  });

  it('unique.keys and @Structured lists that name keys the args type lacks', () => {
    expect(problems).toContain(
      'src/shape.ts:8: UniqueWorker: unique.keys names "type", which is not a key of its args (userId)',
    );
    expect(problems).toContain(
      'src/shape.ts:14: StructuredWorker: structured.keys names "label", which is not a key of its args (id, name)',
    );
    expect(problems).toContain(
      'src/shape.ts:14: StructuredWorker: structured.keys leaves out "name", which its args type requires',
    );
    expect(problems).toContain(
      'src/shape.ts:31: InlineStructuredWorker: structured.keys names "nope", which is not a key of its args (id)',
    );
  });

  it('a worker class the generated module cannot import', () => {
    expect(problems).toContain(
      'src/shape.ts:24: HiddenWorker: the class is not exported, so the generated module cannot import it',
    );
  });

  it('a class named like something the generated module imports from koban', () => {
    expect(problems).toContain(
      'src/clash.ts:3: RecordedFetcher: the generated module would declare RecordedFetcher twice (it is a name the generated module uses itself)',
    );
  });

  it('args that do not survive JSON, each at the line of its property', () => {
    expect(problems).toEqual(
      expect.arrayContaining([
        "src/json.ts:8: JsonWorker: args.callback is a function, which JSON can't store",
        "src/json.ts:9: JsonWorker: args.lookup is a Map, which JSON can't store",
        "src/json.ts:10: JsonWorker: args.ids is a Set, which JSON can't store",
        "src/json.ts:11: JsonWorker: args.price is an instance of the class Money, which JSON can't store",
        "src/json.ts:12: JsonWorker: args.key is a symbol, which JSON can't store",
        "src/json.ts:13: JsonWorker: args.bytes is a Uint8Array, which JSON can't store",
      ]),
    );
  });

  it('options that are not literals', () => {
    expect(problems).toContain(
      "src/literals.ts:5: DynamicWorker: @Worker option queue is not a literal, so npx gen can't read it without running your code",
    );
    expect(problems.find((problem) => problem.startsWith('src/literals.ts:10: BadQueueWorker'))).toMatch(
      /queue must be a name of letters/,
    );
  });

  it('reports nothing else', () => {
    expect(problems).toHaveLength(18);
  });

  it('prints every problem with a fix and exits 1 from the command', async () => {
    const { code, stderr } = await runGen(project.root);
    expect(code).toBe(1);
    expect(stderr).toContain('npx gen found 18 problems:');
    expect(stderr).toContain(
      "src/literals.ts:5: DynamicWorker: @Worker option queue is not a literal, so npx gen can't read it without running your code. Write the value in place, for example queue: 'imports'",
    );
    expect(stderr).toContain('Use Record<string, V>, or an array of [key, value] pairs');
  });
});
