import { fileURLToPath } from 'node:url';
import { type NodeProcess, spawnNodeProcess } from '../../support/node-process.js';
import type { FlowNodeConfig } from './flow-node.js';

const script = fileURLToPath(new URL('./flow-node.ts', import.meta.url));

/** Spawns a node of flow-node.ts and resolves once it has started. */
export function spawnFlowNode(config: FlowNodeConfig): Promise<NodeProcess> {
  return spawnNodeProcess(script, config);
}
