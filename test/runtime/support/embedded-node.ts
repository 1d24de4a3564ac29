import { sql } from 'drizzle-orm';
import { Koban } from '../../../index.js';

// Starts an in-memory embedded Koban and prints its cluster's system identifier, which initdb
// makes new for every cluster:  node --import tsx test/runtime/support/embedded-node.ts

const koban = await Koban.start({ queues: {}, logger: { info() {}, warn() {}, error() {} } });
const result = (await koban.db.execute(
  sql`SELECT system_identifier::text AS id FROM pg_control_system()`,
)) as unknown as {
  rows: { id: string }[];
};
const jobs = await koban.listJobs();
process.stdout.write(`${JSON.stringify({ cluster: result.rows[0]!.id, jobs: jobs.length })}\n`);
await koban.stop();
