import { type Fault, faultError } from '../../sdk/errors.js';
import type { ResolvedQueue } from '../config.js';
import { type FlowChange, type PartitionBy, weightCap } from '../engine/flow.js';
import type { CatalogWorker, WorkerCatalog } from './worker-catalog.js';

/**
 * Checks that the workers of a queue fit its cluster-wide limits: the args keys a partition (or a
 * rate limit's partition, or a worker's chain) is made of are keys of each worker's args, as
 * `npx gen` read them or `@Structured` lists them (`unique.keys` and `chain.by.args` are typed at
 * the decorator; a queue holds many workers, so its keys are checked here, against each);
 * an `@Encrypted` worker, whose args are sealed, is not partitioned by args; and no worker's
 * weight is more than a limit, which its jobs could then never fit. `where` names the queue's
 * limits in messages (`queues.tenants`, `updateQueue("tenants")`).
 */
export function checkWorkersFitQueue(
  queue: string,
  flow: FlowChange,
  catalog: WorkerCatalog,
  where: string,
  fault: Fault,
): void {
  const workers = catalog.all().filter((worker) => worker.definition.queue === queue);
  for (const worker of new Set(workers)) {
    if (flow.partition) checkKeys(worker, flow.partition.by, `${where}.partition.by`, fault);
    if (flow.rateLimit?.by) checkKeys(worker, flow.rateLimit.by, `${where}.rateLimit.partition`, fault);
    const { chain, className } = { chain: worker.definition.chain, className: worker.worker.name };
    if (chain) checkKeys(worker, chain.by, `worker ${className} chain.by`, fault);
    checkWeight(worker, flow, where, fault);
  }
}

/**
 * At `Koban.start`: every queue against the workers this node runs in it, those of queues it does
 * not run included, for their chains.
 */
export function checkQueuesFit(queues: ReadonlyMap<string, ResolvedQueue>, catalog: WorkerCatalog): void {
  const names = new Set([...queues.keys(), ...catalog.all().map((worker) => worker.definition.queue)]);
  for (const queue of names) {
    checkWorkersFitQueue(queue, queues.get(queue)?.flow ?? {}, catalog, `queues.${queue}`, 'config');
  }
}

function checkKeys(worker: CatalogWorker, by: PartitionBy, where: string, fault: Fault): void {
  if (typeof by !== 'object' || !('args' in by)) return;
  const className = worker.worker.name;
  if (worker.definition.encrypted) {
    throw faultError(
      fault,
      `${where}.args`,
      `the args of ${className} (@Encrypted) are sealed, so its jobs cannot be told apart by args: partition by meta instead`,
    );
  }
  const known = worker.argsKeys ?? worker.definition.structured?.keys;
  if (!known) return;
  for (const key of by.args) {
    if (known.includes(key)) continue;
    throw faultError(
      fault,
      `${where}.args`,
      `"${key}" is not a key of the args of ${className}, a worker of queue ${worker.definition.queue} ` +
        `(its args have ${known.length > 0 ? known.join(', ') : 'no keys'}): add it to ${className}'s args type, or partition by meta`,
    );
  }
}

function checkWeight(worker: CatalogWorker, flow: FlowChange, where: string, fault: Fault): void {
  const cap = weightCap({
    global: flow.global ?? undefined,
    partition: flow.partition ?? undefined,
    rateLimit: flow.rateLimit ?? undefined,
  });
  const { weight } = worker.definition;
  if (cap === undefined || weight <= cap) return;
  throw faultError(
    fault,
    where,
    `${worker.worker.name} has weight ${weight}, more than the queue's smallest limit (${cap}): its jobs could never start. ` +
      'Lower the weight or raise the limit',
  );
}
