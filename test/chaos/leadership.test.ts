import { afterEach, describe, expect, it } from 'vitest';
import { Koban, type KobanPlugin } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';
import { sleep } from './support/cluster.js';
import { TcpProxy } from './support/proxy.js';

// A leader cut off from the database used to keep `isLeader` and its leader-only plugins after
// its lease expired and another node took over (9.7 s of two plugins, 6.0 s of two isLeader). A
// leader that cannot renew now steps down before its lease ends, by its own monotonic clock.

const nodes: Koban[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) proxy.release();
  await Promise.allSettled(nodes.splice(0).map((koban) => koban.stop()));
  await Promise.allSettled(proxies.map((proxy) => proxy.close()));
});

/** A leader-only plugin that records when it runs on which node. */
function watchedPlugin(node: string, spans: { node: string; from: number; to?: number }[]): KobanPlugin {
  return {
    name: 'watched',
    leaderOnly: true,
    start() {
      spans.push({ node, from: performance.now() });
    },
    stop() {
      const span = spans.findLast((entry) => entry.node === node && entry.to === undefined);
      if (span) span.to = performance.now();
    },
  };
}

/** Milliseconds in which spans of both nodes were open at once. */
function overlapMs(spans: readonly { node: string; from: number; to?: number }[], end: number): number {
  let total = 0;
  for (const a of spans) {
    for (const b of spans) {
      if (a.node >= b.node) continue;
      const from = Math.max(a.from, b.from);
      const to = Math.min(a.to ?? end, b.to ?? end);
      if (to > from) total += to - from;
    }
  }
  return total;
}

describe('leadership when the leader is cut off', () => {
  it('the old leader steps down before another node can take over', async () => {
    const url = await freshDatabase();
    const proxy = await TcpProxy.start(Number(new URL(url).port || 5432));
    proxies.push(proxy);
    const spans: { node: string; from: number; to?: number }[] = [];
    const settings = {
      queues: {},
      heartbeatInterval: 500,
      rescueAfter: 1500,
      blockTolerance: 0,
      logger: quietLogger,
    };
    const cut = await Koban.start({
      ...settings,
      database: proxy.url(url),
      node: 'cut',
      plugins: [watchedPlugin('cut', spans)],
    });
    nodes.push(cut);
    await waitFor('the first node to lead', () => cut.isLeader);
    const other = await Koban.start({
      ...settings,
      database: url,
      node: 'other',
      plugins: [watchedPlugin('other', spans)],
    });
    nodes.push(other);
    await sleep(1000);
    expect(other.isLeader).toBe(false);

    proxy.hold();
    const heldAt = performance.now();
    let bothMs = 0;
    let last = performance.now();
    let steppedDownAt: number | undefined;
    let tookOverAt: number | undefined;
    while (performance.now() - heldAt < 6000) {
      await sleep(10);
      const now = performance.now();
      if (cut.isLeader && other.isLeader) bothMs += now - last;
      if (!cut.isLeader) steppedDownAt ??= now - heldAt;
      if (other.isLeader) tookOverAt ??= now - heldAt;
      last = now;
    }
    const pluginsMs = overlapMs(spans, performance.now());
    console.info(
      `[chaos] leader cut off: stepped down after ${steppedDownAt?.toFixed(0)} ms, taken over after ${tookOverAt?.toFixed(0)} ms; two isLeader ${bothMs.toFixed(0)} ms, two plugins ${pluginsMs.toFixed(0)} ms`,
    );
    expect(tookOverAt).toBeDefined();
    expect(steppedDownAt).toBeDefined();
    expect(steppedDownAt!).toBeLessThan(tookOverAt!);
    expect(bothMs).toBe(0);
    expect(pluginsMs).toBe(0);
  });
});
