import { afterAll } from 'vitest';
import { Koban, type KobanConfig, type WorkflowStatus } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

/** The databases every workflow and batch test runs on: embedded PGlite, and the server. */
export const backends = ['pglite', 'postgres'] as const;
export type Backend = (typeof backends)[number];

const started: Koban[] = [];
afterAll(async () => {
  await Promise.allSettled(started.splice(0).map((koban) => koban.stop()));
});

/** A node on a fresh database of the backend, with quick timers; stopped after the file. */
export async function startOn(backend: Backend, config: KobanConfig = {}): Promise<Koban> {
  const koban = await Koban.start({
    database: backend === 'postgres' ? await freshDatabase() : undefined,
    logger: quietLogger,
    pollInterval: 200,
    stageInterval: 200,
    heartbeatInterval: 500,
    workflowSweepInterval: 200,
    shutdownGrace: 2000,
    ...config,
  });
  started.push(koban);
  return koban;
}

/** Waits until every step of a workflow has finished, and returns its status. */
export async function finished(koban: Koban, id: string, timeoutMs = 30_000): Promise<WorkflowStatus> {
  return waitFor(
    `workflow ${id} to finish`,
    async () => {
      const status = await koban.workflowStatus(id);
      return status && status.state !== 'executing' ? status : null;
    },
    timeoutMs,
  );
}

/** The states of a workflow's steps, by name. */
export function statesOf(status: WorkflowStatus): Record<string, string> {
  return Object.fromEntries(status.steps.map((step) => [step.name, step.state]));
}
