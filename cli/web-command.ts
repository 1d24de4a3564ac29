import type { KobanOps } from '../runtime/ops/ops.js';
import type { CliOptions } from './options.js';
import { type CliIo, exitCodes } from './output.js';

export async function serveDashboard(ops: KobanOps, _values: CliOptions, io: CliIo): Promise<number> {
  await ops.close();
  io.stderr.write('koban web: not built yet\n');
  return exitCodes.failed;
}
