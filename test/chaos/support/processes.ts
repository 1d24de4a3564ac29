import { fileURLToPath } from 'node:url';
import { type NodeProcess, spawnNodeProcess } from '../../support/node-process.js';
import type { ChaosNodeConfig } from './chaos-node.js';

const script = fileURLToPath(new URL('./chaos-node.ts', import.meta.url));

/** Spawns a node of chaos-node.ts (a crash shows as an exit) and resolves once it has started. */
export function spawnChaosNode(config: ChaosNodeConfig, timeoutMs?: number): Promise<NodeProcess> {
  return spawnNodeProcess(script, config, timeoutMs);
}
