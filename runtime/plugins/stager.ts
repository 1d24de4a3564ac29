import type { Engine } from '../engine/engine.js';
import type { KobanPlugin } from '../plugin.js';
import { periodicPlugin } from './periodic-plugin.js';

/** Makes due scheduled and retryable jobs available, on every node (claims skip locked rows). */
export function stager(engine: Engine, intervalMs: number): KobanPlugin {
  return periodicPlugin('stager', intervalMs, () => engine.stage());
}
