import type { KobanOps } from '../runtime/ops/ops.js';
import { KobanValidationError } from '../sdk/errors.js';

/** Every write the dashboard makes, named as `authorize(req, action)` receives it. */
export type DashboardAction =
  | 'jobs.cancel'
  | 'jobs.retry'
  | 'jobs.delete'
  | 'queues.pause'
  | 'queues.resume'
  | 'queues.scale'
  | 'workflows.cancel'
  | 'workflows.retry'
  | 'crons.run'
  | 'crons.pause'
  | 'crons.resume';

type Body = Record<string, unknown>;

/** The write endpoints: path pattern → the action it is and what it does with the checked body. */
export function actionRoutes(
  ops: KobanOps,
): [
  RegExp,
  (match: RegExpMatchArray) => DashboardAction,
  (match: RegExpMatchArray, body: Body) => Promise<unknown>,
][] {
  return [
    [
      /^\/api\/jobs\/(cancel|retry|delete)$/,
      (match) => `jobs.${match[1]}` as DashboardAction,
      (match, body) => {
        only(body, ['ids', 'filter', 'dryRun', 'reason']);
        const target = body.ids !== undefined ? ids(body.ids) : { filter: filterOf(body.filter) };
        const options = {
          dryRun: body.dryRun === true,
          ...(typeof body.reason === 'string' && body.reason ? { reason: body.reason } : {}),
        };
        if (match[1] === 'cancel') return ops.cancelJobs(target, options);
        if (match[1] === 'retry') return ops.retryJobs(target, options);
        return ops.deleteJobs(target, options);
      },
    ],
    [
      /^\/api\/queues\/([^/]{1,128})\/(pause|resume|scale)$/,
      (match) => `queues.${match[2]}` as DashboardAction,
      async (match, body) => {
        const queue = decodeURIComponent(match[1]!);
        if (match[2] === 'scale') {
          only(body, ['limit']);
          await ops.scaleQueue(queue, body.limit as number);
        } else {
          only(body, []);
          await (match[2] === 'pause' ? ops.pauseQueue(queue) : ops.resumeQueue(queue));
        }
        return { queue, done: match[2] };
      },
    ],
    [
      /^\/api\/workflows\/([0-9a-f-]{36})\/(cancel|retry)$/,
      (match) => `workflows.${match[2]}` as DashboardAction,
      (match, body) => {
        only(body, []);
        return match[2] === 'cancel' ? ops.cancelWorkflow(match[1]!) : ops.retryWorkflow(match[1]!);
      },
    ],
    [
      /^\/api\/crons\/([^/]{1,255})\/(run|pause|resume)$/,
      (match) => `crons.${match[2]}` as DashboardAction,
      async (match, body) => {
        only(body, []);
        const name = decodeURIComponent(match[1]!);
        if (match[2] === 'run') return { job: (await ops.runCron(name)).id };
        await (match[2] === 'pause' ? ops.pauseCron(name) : ops.resumeCron(name));
        return { name, done: match[2] };
      },
    ],
  ];
}

function only(body: Body, keys: readonly string[]): void {
  const extra = Object.keys(body).filter((key) => !keys.includes(key));
  if (extra.length > 0) {
    throw new KobanValidationError(
      extra.map((key) => ({
        path: `body.${key}`,
        message: `unknown field; expected ${keys.join(', ') || 'none'}`,
      })),
    );
  }
}

function ids(value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > 1000 ||
    !value.every((id) => typeof id === 'string' && /^\d{1,19}$/.test(id))
  ) {
    throw new KobanValidationError([{ path: 'body.ids', message: 'expected 1 to 1000 job ids' }]);
  }
  return value;
}

function filterOf(value: unknown) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KobanValidationError([{ path: 'body.filter', message: 'expected ids or a filter object' }]);
  }
  return value as Record<string, never>;
}
