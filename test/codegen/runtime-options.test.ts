import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../codegen/config.js';
import { generate } from '../../codegen/generate.js';
import { tempProject } from './helpers.js';

// Some `@Worker` options matter only when jobs run: gen neither reads nor refuses them, so a
// value it could not evaluate (a Date) does not stop it.

describe('gen and the options only the runtime reads', () => {
  const project = tempProject({
    'src/workers.ts': `import { type Job, Worker } from 'koban';

const launch = new Date('2030-01-01T00:00:00Z');

@Worker({ queue: 'mail', deadline: { at: launch, action: 'discard' } })
export class LaunchMail {
  async process(_job: Job<{ to: string }>) {}
}

@Worker({ deadline: 3600 })
export class HourlyReport {
  async process(_job: Job<{ day: string }>) {}
}
`,
  });
  afterAll(() => project.remove());

  it('generates builders for workers with deadlines, Dates included', () => {
    const generated = generate(loadConfig(project.root, {}));
    expect(generated.workers).toBe(2);
    expect(generated.text).toContain('LaunchMail');
    expect(generated.text).toContain('HourlyReport');
  });
});
