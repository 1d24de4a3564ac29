import { afterAll, describe, expect, it } from 'vitest';
import { Koban, type KobanLogger } from '../../index.js';
import { kobanDashboard } from '../../web/index.js';
import { freshDatabase, withSql } from '../support/databases.js';

// A request that fails inside the server answers 500 with no detail (the message could carry
// database values), so the detail must reach the server's log, or nobody can learn what failed.

const closing: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closing) await close();
});

describe('a request that fails in the server', () => {
  it('answers 500 without the detail and logs the detail with the method and path', async () => {
    const url = await freshDatabase();
    const ops = await Koban.connect({ database: url });
    closing.push(() => ops.close());
    const lines: { details: unknown; message: string | undefined }[] = [];
    const record = (details: unknown, message?: string) => lines.push({ details, message });
    const logger: KobanLogger = { info: () => {}, warn: () => {}, error: record };
    const dashboard = kobanDashboard({ ops, basePath: '/koban', logger });
    // The jobs table gone under the dashboard: a failure that is not one of Koban's own errors.
    await withSql(url, (sql) => sql`DROP TABLE koban.jobs CASCADE`);

    const response = await dashboard.fetch(new Request('http://localhost/koban/api/jobs?state=available'));
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: string };
    expect(body.error).toBe('internal error; see the server log');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toBe('koban web: GET /api/jobs failed');
    const details = lines[0]!.details as { method: string; path: string; error: Error };
    expect(details).toMatchObject({ method: 'GET', path: '/api/jobs' });
    expect(String(details.error.message)).toMatch(/jobs/);
  });
});
