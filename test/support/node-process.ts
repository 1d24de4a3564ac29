import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const live = new Set<NodeProcess>();

/**
 * A Koban node running in a child process: a script that takes its config as JSON in argv,
 * prints `"ready"` once started, and stops Koban and exits 0 on SIGTERM.
 */
export class NodeProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly node: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: the process dies at once, mid-job, without stopping Koban. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the child stops Koban (waiting for its running jobs) and exits 0. */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGTERM');
    const { code, signal } = await this.exited;
    if (code !== 0) throw new Error(`node ${this.node} exited with ${signal ?? code}:\n${this.stderr}`);
  }
}

/** Spawns `script` as a node and resolves once it has started; it is killed after the test if still up. */
export async function spawnNodeProcess(
  script: string,
  config: { readonly node: string },
  timeoutMs = 60_000,
): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node = new NodeProcess(config.node, child);
  live.add(node);
  const deadline = Date.now() + timeoutMs;
  while (!node.stdout.includes('"ready"')) {
    if (!node.running || Date.now() > deadline) {
      await node.kill();
      throw new Error(`node ${config.node} did not start:\n${node.stdout}\n${node.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return node;
}

afterEach(async () => {
  await Promise.all([...live].map((node) => node.kill()));
});
