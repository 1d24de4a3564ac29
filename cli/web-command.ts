import { createServer } from 'node:http';
import type { KobanOps } from '../runtime/ops/ops.js';
import { kobanDashboard } from '../web/index.js';
import { type CliOptions, integerOption } from './options.js';
import { type CliIo, exitCodes } from './output.js';

/**
 * `koban web`: the dashboard on its own server, at `/`. Read only unless `--write`, which
 * allows every action to whoever reaches the port: keep it on localhost or behind your proxy's
 * authentication. Runs until SIGINT or SIGTERM.
 */
export async function serveDashboard(ops: KobanOps, values: CliOptions, io: CliIo): Promise<number> {
  const port = integerOption(values.port, 'port') ?? 4000;
  const host = values.host ?? '127.0.0.1';
  const dashboard = kobanDashboard({
    ops,
    basePath: '',
    ...(values.write ? { authorize: () => true } : {}),
  });
  const server = createServer((req, res) => {
    dashboard.node(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const shown =
    typeof address === 'object' && address ? `${address.address}:${address.port}` : `${host}:${port}`;
  io.stdout.write(
    `Koban Web on http://${shown}/ (${values.write ? 'writes allowed' : 'read only; --write allows actions'}) for ${ops.description}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await new Promise((resolve) => server.close(resolve));
  await ops.close();
  return exitCodes.ok;
}
