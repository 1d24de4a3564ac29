import { periodicPlugin } from './periodic-plugin.js';
import type { KobanPlugin } from './plugin.js';

/** Makes due scheduled and retryable jobs available, on every node (claims skip locked rows). */
export function stager(intervalMs: number): KobanPlugin {
  return periodicPlugin('stager', intervalMs, (engine) => engine.stage());
}
