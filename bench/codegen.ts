/**
 * How long `npx gen` takes on a project of 200 workers, written into a temp directory.
 * Run on demand: `npx tsx bench/codegen.ts [workers]`. Prints a table; asserts nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../codegen/config.js';
import { generate } from '../codegen/generate.js';
import { writeOutput } from '../codegen/write.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const count = Number(process.argv[2] ?? 200);

/** One worker file; every fourth worker is structured, every fifth recorded, to vary the shapes. */
function workerSource(index: number): string {
  const name = `Worker${String(index).padStart(3, '0')}`;
  const structured = index % 4 === 0;
  const recorded = index % 5 === 0;
  const imports = ['type Job', 'Worker', structured && 'Structured', recorded && 'Recorded'].filter(Boolean);
  return `import { ${imports.join(', ')} } from 'koban';

type Kind${index} = 'a' | 'b' | 'c';

interface Args${index} {
  id: number;
  name: string;
  kind: Kind${index};
  at: Date;
  tags?: string[];
  items: { sku: string; quantity: number; note?: string | null }[];
  meta: Record<string, number>;
}

@Worker({ queue: 'queue_${index % 10}', maxAttempts: ${1 + (index % 20)}, unique: { period: 60, keys: ['id'] } })
${structured ? "@Structured({ required: ['id', 'name'] })\n" : ''}${recorded ? '@Recorded()\n' : ''}export class ${name} {
  async process(job: Job<Args${index}>): Promise<{ done: number; at: Date }> {
    return { done: job.args.id, at: job.args.at };
  }
}
`;
}

function writeProject(root: string): void {
  mkdirSync(join(root, 'src', 'workers'), { recursive: true });
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(repo, 'node_modules', '@types')],
      paths: { koban: [join(repo, 'index.ts')] },
    },
    include: ['src'],
  };
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  for (let index = 0; index < count; index += 1) {
    writeFileSync(join(root, 'src', 'workers', `worker-${index}.ts`), workerSource(index));
  }
}

const root = mkdtempSync(join(tmpdir(), 'koban-bench-codegen-'));
try {
  writeProject(root);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const generated = generate(loadConfig(root, {}));
  writeOutput(generated);
  const total = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const rows: [string, string][] = [
    ['workers', String(generated.workers)],
    ['load project (ms)', generated.timings.load.toFixed(0)],
    ['scan + model (ms)', generated.timings.scan.toFixed(0)],
    ['emit + format (ms)', generated.timings.emit.toFixed(0)],
    ['total incl. write (ms)', total.toFixed(0)],
    // Wall time grows when other processes share the CPUs; CPU time does not.
    ['cpu time, user + system (ms)', ((cpu.user + cpu.system) / 1000).toFixed(0)],
    ['output (lines)', String(generated.text.split('\n').length)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`${'stage'.padEnd(width)} | value`);
  console.log(`${'-'.repeat(width)} | -----`);
  for (const [label, value] of rows) console.log(`${label.padEnd(width)} | ${value}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
