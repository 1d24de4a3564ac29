import type { Engine } from '../engine/engine.js';
import { Periodic } from '../node/periodic.js';
import type { KobanPlugin, PluginContext } from './plugin.js';

/** A plugin that runs `task` with the node's engine at start and then every `intervalMs`. */
export function periodicPlugin(
  name: string,
  intervalMs: number,
  task: (engine: Engine) => Promise<unknown>,
  options: { leaderOnly?: boolean } = {},
): KobanPlugin {
  let periodic: Periodic | undefined;
  return {
    name,
    leaderOnly: options.leaderOnly ?? false,
    start(context: PluginContext) {
      periodic = new Periodic(
        intervalMs,
        () => task(context.engine),
        (error) => context.reportError(error),
      );
      periodic.start();
    },
    async stop() {
      await periodic?.stop();
    },
  };
}
