import { fileURLToPath } from 'node:url';
import { type NodeProcess, spawnNodeProcess } from '../../support/node-process.js';
import type { ChildConfig } from './child-node.js';

const script = fileURLToPath(new URL('./child-node.ts', import.meta.url));

/** Spawns a node of child-node.ts and resolves once it has started. */
export function spawnNode(config: ChildConfig, timeoutMs?: number): Promise<NodeProcess> {
  return spawnNodeProcess(script, config, timeoutMs);
}
