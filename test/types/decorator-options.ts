// Type tests, checked by `npm run typecheck` (tsc): each @ts-expect-error must meet an error.
// Options that name args keys are typed against the worker's args, so a typo fails to compile.
import { defineWorker, type Job, type JsonObject, Structured, Worker } from '../../index.js';

interface AuditArgs {
  userId: string;
  action: string;
  metadata?: Record<string, unknown>;
}

@Worker({ queue: 'secure', unique: { keys: ['userId'], period: 60 } })
@Structured({ keys: ['userId', 'action', 'metadata'], required: ['userId'], defaults: { metadata: {} } })
export class AuditWorker {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: userid is not a key of AuditArgs
@Structured({ keys: ['userid', 'action'] })
export class StructuredTypo {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: required names a key the args lack
@Structured({ required: ['user'] })
export class RequiredTypo {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: defaults name a key the args lack
@Structured({ defaults: { meta: {} } })
export class DefaultsTypo {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: unique.keys names a key the args lack
@Worker({ unique: { keys: ['userID'] } })
export class UniqueTypo {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: structured inside @Worker is checked too
@Worker({ structured: { keys: ['nope'] } })
export class WorkerStructuredTypo {
  async process(_job: Job<AuditArgs>) {}
}

/** Args that allow any key accept any names. */
@Worker({ unique: { keys: ['anything'] } })
@Structured({ required: ['anything'] })
export class OpenArgs {
  async process(_job: Job<JsonObject>) {}
}

export class PlainAudit {
  async process(_job: Job<AuditArgs>) {}
}
defineWorker(PlainAudit, { unique: { keys: ['action'] }, structured: { required: ['userId'] } });
// @ts-expect-error: defineWorker types its options against the class's args too
defineWorker(PlainAudit, { unique: { keys: ['actions'] } });

/** A chain's args keys are typed like `unique.keys`. */
@Worker({ chain: { by: { args: ['userId'] }, onFailure: 'hold' } })
export class ChainedAudit {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: chain.by.args names a key the args lack
@Worker({ chain: { by: { args: ['userID'] } } })
export class ChainTypo {
  async process(_job: Job<AuditArgs>) {}
}

// @ts-expect-error: defineWorker types a chain's keys too
defineWorker(PlainAudit, { chain: { by: { args: ['account'] } } });
