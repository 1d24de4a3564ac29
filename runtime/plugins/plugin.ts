import type { Engine } from '../engine/engine.js';
import type { KobanLogger } from '../node/logger.js';

/** What a plugin is given when it starts. */
export interface PluginContext {
  /** The node's name. */
  readonly node: string;
  readonly logger: KobanLogger;
  /** The node's engine: every operation Koban's own plugins use (stage, prune, rescue, reads, commands). */
  readonly engine: Engine;
  /** Reports a failure of the plugin's background work on the node's `error` event. */
  reportError(error: unknown): void;
}

/**
 * Periodic or background work that runs beside the queues of a node, as Oban's plugins do.
 * Koban's own stager, pruner, lifeline, cron and workflow sweeper are plugins;
 * `Koban.start({ plugins })` adds more. A `leaderOnly` plugin runs on one node at a time: it
 * starts when its node becomes the leader and stops when the node stops being it (or stops).
 */
export interface KobanPlugin {
  /** Unique among a node's plugins; shown in errors. */
  readonly name: string;
  readonly leaderOnly?: boolean;
  /**
   * Checks the plugin's options when the node starts, before it connects: throw (a
   * KobanConfigError, or any error, which Koban reports as one naming the plugin) to refuse them.
   */
  validate?(): void;
  start(context: PluginContext): void | Promise<void>;
  /** Stops the plugin's work; resolves once work in progress is done. */
  stop(): void | Promise<void>;
}
