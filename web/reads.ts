import type { JobSearch } from '../runtime/engine/job-search.js';
import type { KobanOps } from '../runtime/ops/ops.js';
import { KobanValidationError } from '../sdk/errors.js';

/** The search a jobs page URL describes; unknown parameters are refused, not ignored. */
export function searchOfQuery(query: URLSearchParams): { search: JobSearch; limit: number; cursor?: string } {
  const known = new Set([
    'state',
    'queue',
    'worker',
    'tag',
    'args',
    'meta',
    'ids',
    'workflow',
    'batch',
    'insertedFrom',
    'insertedTo',
    'limit',
    'cursor',
  ]);
  for (const key of query.keys()) {
    if (!known.has(key))
      throw new KobanValidationError([{ path: `query.${key}`, message: 'unknown parameter' }]);
  }
  const list = (key: string) =>
    query
      .getAll(key)
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter(Boolean);
  const search: Record<string, unknown> = {};
  if (list('state').length) search.state = list('state');
  if (list('queue').length) search.queue = list('queue');
  if (list('worker').length) search.worker = list('worker');
  if (list('tag').length) search.tags = list('tag');
  if (list('ids').length) search.ids = list('ids');
  if (query.get('args')) search.args = query.get('args');
  if (query.get('meta')) search.meta = query.get('meta');
  if (query.get('workflow')) search.workflowId = query.get('workflow');
  if (query.get('batch')) search.batchId = query.get('batch');
  if (query.get('insertedFrom') || query.get('insertedTo')) {
    search.inserted = {
      from: query.get('insertedFrom') || undefined,
      to: query.get('insertedTo') || undefined,
    };
  }
  const limit = query.get('limit') ? Number(query.get('limit')) : 50;
  return {
    search: search as JobSearch,
    limit,
    ...(query.get('cursor') ? { cursor: query.get('cursor')! } : {}),
  };
}

/** The read endpoints: path pattern → what it answers. */
export function readRoutes(
  ops: KobanOps,
): [RegExp, (match: RegExpMatchArray, query: URLSearchParams) => Promise<unknown>][] {
  return [
    [/^\/api\/overview$/, () => ops.overview()],
    [
      /^\/api\/jobs$/,
      async (_match, query) => {
        const { search, limit, cursor } = searchOfQuery(query);
        return ops.searchJobs(search, { limit, cursor });
      },
    ],
    [/^\/api\/jobs\/(\d{1,19})$/, (match) => ops.job(match[1]!)],
    [/^\/api\/workflows$/, () => ops.workflows({ limit: 100 })],
    [/^\/api\/workflows\/([0-9a-f-]{36})$/, (match) => ops.workflow(match[1]!)],
    [/^\/api\/batches$/, () => ops.batches({ limit: 100 })],
    [/^\/api\/batches\/([0-9a-f-]{36})$/, (match) => ops.batch(match[1]!)],
    [/^\/api\/crons$/, () => ops.crons()],
    [/^\/api\/nodes$/, () => ops.nodes()],
    [
      /^\/api\/metrics$/,
      (_match, query) => {
        const day = query.get('range') === 'day';
        const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
        return ops.metricsHistory({
          from: new Date(to.getTime() - (day ? 86_400_000 : 3_600_000)),
          to,
          step: day ? 15 : 1,
          groupBy: 'queue',
        });
      },
    ],
  ];
}
