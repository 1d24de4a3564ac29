import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

/** Where Debian's `pgbouncer` package puts the binary (`.ci/run` installs it). */
export const pgbouncerBinary = '/usr/sbin/pgbouncer';

/** A PgBouncer in transaction mode in front of the test server, on a free port, with its config in a temp dir. */
export interface Bouncer {
  /** `url` with the host and port of the bouncer instead of the server's. */
  readonly url: (direct: string) => string;
  /** PgBouncer's log so far: it says when a server connection answered a client it no longer served. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startPgbouncer(server: URL, options: { poolSize?: number } = {}): Promise<Bouncer> {
  if (!existsSync(pgbouncerBinary)) {
    throw new Error(`${pgbouncerBinary} is missing: apt-get install -y pgbouncer (.ci/run does it)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'koban-pgbouncer-'));
  chmodSync(dir, 0o777); // run as the postgres user: PgBouncer refuses to run as root
  const port = await freePort();
  const logfile = join(dir, 'pgbouncer.log');
  const log = () => (existsSync(logfile) ? readFileSync(logfile, 'utf8') : '');
  const user = decodeURIComponent(server.username || 'postgres');
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `admin_users = ${user}`,
      `default_pool_size = ${options.poolSize ?? 4}`,
      'max_client_conn = 500',
      'server_reset_query =',
      'ignore_startup_parameters = extra_float_digits,options',
      `logfile = ${logfile}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const args = [join(dir, 'pgbouncer.ini'), ...(process.getuid?.() === 0 ? ['-u', 'postgres'] : [])];
  const child: ChildProcess = spawn(pgbouncerBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = (direct: string) => {
    const through = new URL(direct);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    return through.toString();
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it answers a query through to the server.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const probe = postgres(url(server.toString()), {
      max: 1,
      prepare: false,
      onnotice: () => {},
      connect_timeout: 2,
    });
    try {
      await probe.unsafe('SELECT 1');
      return { url, log, stop };
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const written = log();
        await stop();
        throw new Error(`pgbouncer did not start: ${(error as Error).message}\n${output}\n${written}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
}
