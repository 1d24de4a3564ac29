import type { KobanLogger } from './config.js';

/** What a plugin is given when it starts. */
export interface PluginContext {
  /** The node's name. */
  readonly node: string;
  readonly logger: KobanLogger;
  /** Reports a failure of the plugin's background work on the node's `error` event. */
  reportError(error: unknown): void;
}

/**
 * Periodic or background work that runs beside the queues of a node. Koban's own stager, pruner,
 * lifeline, heartbeat, cron and workflow sweeper are plugins; `Koban.start({ plugins })` adds
 * more. A `leaderOnly` plugin runs on one node at a time: it starts when its node becomes the
 * leader and stops when the node stops being it (or stops).
 */
export interface KobanPlugin {
  /** Unique among a node's plugins; shown in errors. */
  readonly name: string;
  readonly leaderOnly?: boolean;
  start(context: PluginContext): void | Promise<void>;
  /** Stops the plugin's work; resolves once work in progress is done. */
  stop(): void | Promise<void>;
}
