import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import type { ChaosNodeConfig } from './chaos-node.js';

const script = fileURLToPath(new URL('./chaos-node.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const live = new Set<ChaosNode>();

/** A Koban node in a child process (see chaos-node.ts): a crash shows as an exit. */
export class ChaosNode {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
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

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: the node stops Koban and exits 0; resolves with how long stop() took. */
  async stop(): Promise<number> {
    if (this.running) this.child.kill('SIGTERM');
    const { code, signal } = await this.exited;
    if (code !== 0) throw new Error(`node exited with ${signal ?? code}:\n${this.stderr}`);
    return (
      JSON.parse(this.stdout.split('\n').find((line) => line.includes('"stopped"')) ?? '{}') as {
        stopped: number;
      }
    ).stopped;
  }
}

export async function spawnChaosNode(config: ChaosNodeConfig, timeoutMs = 60_000): Promise<ChaosNode> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node = new ChaosNode(child);
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
