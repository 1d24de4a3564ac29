import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Koban, KobanDatabaseError } from '../../index.js';
import { resolveConfig } from '../../runtime/config.js';
import { quietLogger } from '../support/wait.js';

// Defect 5 of issue 11: `Koban.start` never settled for a host that takes connections and never
// answers (a blackholed address behind a proxy or load balancer). postgres.js retried such a host
// forever without failing the query.

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A TCP server on 127.0.0.1 that handles every connection with `onConnection`. */
async function blackhole(onConnection: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

async function startFailure(database: string, connectTimeout?: number) {
  const started = Date.now();
  const error = await Koban.start({
    database,
    logger: quietLogger,
    ...(connectTimeout === undefined ? {} : { connectTimeout }),
  }).then(
    async (koban) => {
      await koban.stop();
      throw new Error('Koban.start should have failed');
    },
    (caught: unknown) => caught as Error,
  );
  return { error, elapsedMs: Date.now() - started };
}

describe('Koban.start against a host that does not answer', () => {
  it('fails after connectTimeout when the host accepts and then drops every connection', async () => {
    const port = await blackhole((socket) => socket.once('data', () => socket.end()));
    const { error, elapsedMs } = await startFailure(`postgres://koban:s3cret@127.0.0.1:${port}/app`, 1500);
    expect(error).toBeInstanceOf(KobanDatabaseError);
    expect(error.message).toContain(`cannot reach PostgreSQL at postgres://koban:***@127.0.0.1:${port}/app`);
    expect(error.message).toContain('no answer within 1500 ms');
    expect(error.message).toContain(`host 127.0.0.1:${port}`);
    expect(error.message).not.toContain('s3cret');
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('fails after connectTimeout when the host accepts and never answers', async () => {
    const port = await blackhole(() => {});
    const { error, elapsedMs } = await startFailure(`postgres://koban@127.0.0.1:${port}/app`, 1000);
    expect(error).toBeInstanceOf(KobanDatabaseError);
    expect(error.message).toContain('no answer within 1000 ms');
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('gives up after 10 s by default', () => {
    expect(resolveConfig({}, 'node').connectTimeout).toBe(10_000);
  });

  it('refuses a connectTimeout that is not a positive number before connecting', async () => {
    const { error } = await startFailure('postgres://koban@127.0.0.1:1/app', 0);
    expect(error.message).toMatch(/^connectTimeout: expected a positive number, got 0/);
  });
});
