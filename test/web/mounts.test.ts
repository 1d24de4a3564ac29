import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, type KobanOps, newJob } from '../../index.js';
import { type KobanDashboard, kobanDashboard } from '../../web/index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';

// The dashboard mounted the way each server's users mount it, as the README shows: its page,
// its assets and reads, a write carrying the page's CSRF token, and a forged write refused.
// Each app parses JSON bodies itself before the dashboard sees the request, as real apps do.

class MountMailer {
  async process(_job: Job<{ to: string }>) {}
}
defineWorker(MountMailer, { queue: 'mount-mailers' });

interface Mounted {
  readonly base: string;
  close(): Promise<void>;
}

const portOf = (address: AddressInfo | string | null) => (address as AddressInfo).port;

const mounts: Record<string, (dashboard: KobanDashboard) => Promise<Mounted>> = {
  'node:http': async (dashboard) => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/koban')) void dashboard.node(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      base: `http://127.0.0.1:${portOf(server.address())}/koban`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
  Express: async (dashboard) => {
    const app = express();
    app.use(express.json());
    app.use('/koban', (req, res) => void dashboard.node(req, res));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      base: `http://127.0.0.1:${portOf(server.address())}/koban`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
  Fastify: async (dashboard) => {
    const app = Fastify();
    // In onRequest, before Fastify parses the body: the dashboard reads the raw stream itself.
    app.all(
      '/koban/*',
      {
        onRequest: async (request, reply) => {
          reply.hijack();
          await dashboard.node(request.raw, reply.raw);
        },
      },
      () => {},
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { base: `http://127.0.0.1:${portOf(app.server.address())}/koban`, close: () => app.close() };
  },
  'Hono (Fetch API)': async (dashboard) => {
    const app = new Hono();
    app.all('/koban/*', (c) => dashboard.fetch(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return {
      base: `http://127.0.0.1:${portOf(server.address())}/koban`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
};

let url: string;
let client: Koban;
let ops: KobanOps;
beforeAll(async () => {
  url = await freshDatabase();
  client = await Koban.start({ database: url, logger: quietLogger, workers: [MountMailer] });
  ops = await Koban.connect({ database: url });
});
afterAll(async () => {
  await ops?.close();
  await client?.stop();
});

describe.each(Object.keys(mounts))('the dashboard mounted in %s', (name) => {
  let mounted: Mounted;
  const actions: string[] = [];
  beforeAll(async () => {
    const dashboard = kobanDashboard({
      ops,
      basePath: '/koban',
      authorize: (_req, action) => {
        actions.push(action);
        return true;
      },
    });
    mounted = await mounts[name]!(dashboard);
  });
  afterAll(() => mounted?.close());

  async function pageToken() {
    const response = await fetch(`${mounted.base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/; Path=\/koban; HttpOnly; SameSite=Strict/);
    const html = await response.text();
    expect(html).toContain('src="/koban/assets/app.js"');
    return { cookie: cookie.split(';')[0]!, token: /data-token="([^"]+)"/.exec(html)![1]! };
  }

  const cancel = (ids: string[], headers: Record<string, string>) =>
    fetch(`${mounted.base}/api/jobs/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ ids, reason: `cancelled through ${name}` }),
    });

  it('serves the page, its assets and a read of the jobs', async () => {
    await pageToken();
    const script = await fetch(`${mounted.base}/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const [job] = await client.insertAll([newJob(MountMailer, { to: `read@${name}` })]);
    const list = await fetch(`${mounted.base}/api/jobs?queue=mount-mailers&state=available`);
    expect(list.status).toBe(200);
    const ids = ((await list.json()) as { jobs: { id: string }[] }).jobs.map((row) => row.id);
    expect(ids).toContain(job!.id);
    expect((await fetch(`${mounted.base}/api/nothing-here`)).status).toBe(404);
  });

  it('makes a write that carries the CSRF token, and refuses a forged one', async () => {
    const [kept, cancelled] = await client.insertAll([
      newJob(MountMailer, { to: `kept@${name}` }),
      newJob(MountMailer, { to: `cancelled@${name}` }),
    ]);
    const { cookie, token } = await pageToken();
    const forged = [
      await cancel([kept!.id], { cookie }),
      await cancel([kept!.id], { cookie, 'x-koban-csrf': `${token.slice(1)}x` }),
      await cancel([kept!.id], { cookie, 'x-koban-csrf': token, origin: 'https://evil.example' }),
    ];
    expect(forged.map((response) => response.status)).toEqual([403, 403, 403]);
    expect(actions).toEqual([]);
    expect((await ops.job(kept!.id))!.job.state).toBe('available');

    const done = await cancel([cancelled!.id], { cookie, 'x-koban-csrf': token });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ total: 1, changed: 1, dryRun: false });
    expect(actions).toEqual(['jobs.cancel']);
    const { job } = (await ops.job(cancelled!.id))!;
    expect(job.state).toBe('cancelled');
    expect(job.errors.at(-1)!.error).toBe(`cancelled: cancelled through ${name}`);
    expect((await ops.job(kept!.id))!.job.state).toBe('available');
  });
});

describe('a body read by the app before the dashboard', () => {
  it('is refused with what to change, not left waiting for a stream that has ended', async () => {
    const dashboard = kobanDashboard({ ops, basePath: '/koban', authorize: () => true });
    // A Fastify route handler runs after Fastify parsed the body: too late for the raw stream.
    const app = Fastify();
    app.all('/koban/*', (request, reply) => {
      reply.hijack();
      void dashboard.node(request.raw, reply.raw);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${portOf(app.server.address())}/koban`;
      const page = await fetch(`${base}/`);
      const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
      const token = /data-token="([^"]+)"/.exec(await page.text())![1]!;
      const [job] = await client.insertAll([newJob(MountMailer, { to: 'late@example.com' })]);
      const write = await fetch(`${base}/api/jobs/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-koban-csrf': token },
        body: JSON.stringify({ ids: [job!.id] }),
      });
      expect(write.status).toBe(500);
      expect(((await write.json()) as { error: string }).error).toMatch(
        /read before the dashboard got it: mount the dashboard before the body parser \(Fastify: in onRequest\)/,
      );
      expect((await ops.job(job!.id))!.job.state).toBe('available');
    } finally {
      await app.close();
    }
  });
});
