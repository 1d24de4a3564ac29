import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../codegen/config.js';
import { KobanCodegenError } from '../../codegen/errors.js';
import { generate } from '../../codegen/generate.js';
import { defineWorker } from '../../index.js';
import { tempProject } from './helpers.js';

// `npx gen` used to accept worker names that `Koban.start` (through defineWorker) refuses: a
// class name or `name` over 255 characters, or one PostgreSQL cannot store. gen refuses them
// now, with the runtime's own message.

const longClass = `Long${'W'.repeat(296)}`;
const longName = 'N'.repeat(300);

function problemsOf(root: string): string[] {
  try {
    generate(loadConfig(root, {}));
  } catch (error) {
    if (!(error instanceof KobanCodegenError)) throw error;
    return error.problems.map((problem) => `${problem.file}:${problem.line}: ${problem.message}`);
  }
  return [];
}

/** What defineWorker says of the same name at run time. */
function runtimeMessage(className: string, name?: string): string {
  const target = {
    [className]: class {
      async process() {}
    },
  }[className]!;
  try {
    defineWorker(target, name === undefined ? {} : { name });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected defineWorker to refuse the name');
}

describe('gen refuses the worker names start refuses, with the same message', () => {
  const project = tempProject({
    'src/names.ts': `import { type Job, Worker } from 'koban';

@Worker()
export class ${longClass} {
  async process(_job: Job<{ id: number }>) {}
}

@Worker({ name: '${longName}' })
export class NamedTooLong {
  async process(_job: Job<{ id: number }>) {}
}

@Worker({ name: 'nul\\u0000name' })
export class NulName {
  async process(_job: Job<{ id: number }>) {}
}

@Worker({ name: '${'é'.repeat(254)}W' })
export class FitsExactly {
  async process(_job: Job<{ id: number }>) {}
}
`,
  });
  afterAll(() => project.remove());
  const problems = problemsOf(project.root);

  it('a class name over 255 characters', () => {
    expect(problems).toContainEqual(expect.stringContaining(runtimeMessage(longClass)));
    expect(runtimeMessage(longClass)).toContain('the worker name is 300 characters long; at most 255');
  });

  it('a name option over 255 characters', () => {
    expect(problems).toContainEqual(expect.stringContaining(runtimeMessage('NamedTooLong', longName)));
  });

  it('a name PostgreSQL cannot store', () => {
    expect(problems).toContainEqual(expect.stringContaining(runtimeMessage('NulName', 'nul\u0000name')));
  });

  it('and nothing else: a name of 255 characters is taken', () => {
    expect(problems).toHaveLength(3);
  });
});
