/** The stable codes of Koban's errors, one per error class. */
export type KobanErrorCode =
  | 'config'
  | 'validation'
  | 'database'
  | 'migration'
  | 'timeout'
  | 'unknown_worker'
  | 'shutdown'
  | 'cancelled'
  | 'encryption'
  | 'unknown_key'
  | 'recorded_too_large'
  | 'workflow'
  | 'batch'
  | 'assertion'
  | 'codegen'
  | 'await_timeout'
  | 'job_failed'
  | 'codegen_setup';

/**
 * Every error Koban throws is a KobanError with a stable `code`, so callers can branch on the
 * code instead of parsing messages.
 */
export class KobanError extends Error {
  readonly code: KobanErrorCode;

  constructor(code: KobanErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad configuration: worker options, start options, keys. Thrown at definition or start time. */
export class KobanConfigError extends KobanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
  }
}

export interface ValidationIssue {
  /** Where the problem is, for example `args.items[2].sku`. */
  readonly path: string;
  /** What was wrong, for example `expected string, got number`. */
  readonly message: string;
}

/** Args (or a recorded result) that do not satisfy the worker's contract. Lists every problem. */
export class KobanValidationError extends KobanError {
  readonly issues: readonly ValidationIssue[];
  readonly worker: string | undefined;

  constructor(issues: readonly ValidationIssue[], worker?: string) {
    const where = worker ? ` (${worker})` : '';
    const lines = issues.map((issue) => `${issue.path}: ${issue.message}`);
    super('validation', `${lines.join('; ')}${where}`);
    this.issues = issues;
    this.worker = worker;
  }
}

/** A database could not be reached or used. */
export class KobanDatabaseError extends KobanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database', message, options);
  }
}

/** The database schema is newer than this version of Koban understands. */
export class KobanMigrationError extends KobanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('migration', message, options);
  }
}

/** A job attempt ran longer than its worker's `timeout`. */
export class KobanTimeoutError extends KobanError {
  constructor(worker: string, timeoutMs: number) {
    super('timeout', `${worker} timed out after ${timeoutMs} ms`);
  }
}

/** A stored job names a worker this process does not know. */
export class KobanUnknownWorkerError extends KobanError {
  constructor(worker: string, known: readonly string[], node?: string) {
    super(
      'unknown_worker',
      `no worker named "${worker}" runs on ${node ? `node ${node}` : 'this node'} (it runs: ${known.join(', ') || 'none'}). ` +
        'The job went back to the queue with its attempt given back, for a node that runs the worker. ' +
        'Pass the worker in Koban.start({ workers }), or keep its old name with @Worker({ name }).',
    );
  }
}

/** The reason given to `job.signal` when the node stops before the job finished. */
export class KobanShutdownError extends KobanError {
  constructor(node: string) {
    super('shutdown', `node ${node} is shutting down; the job goes back to the queue`);
  }
}

/** The reason given to `job.signal` when the job is cancelled (or deleted) while it runs. */
export class KobanJobCancelledError extends KobanError {
  constructor(id: string) {
    super('cancelled', `job ${id} was cancelled while it ran`);
  }
}

/**
 * Encrypted data could not be opened: altered ciphertext, an algorithm other than the worker's,
 * or args stored in clear for an encrypted worker. Retrying cannot help, so a job whose args fail
 * this way is cancelled. (A key the node lacks is a KobanUnknownKeyError: another node may have it.)
 */
export class KobanEncryptionError extends KobanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('encryption', message, options);
  }
}

/**
 * Encrypted data names a key (by its id) that is not among the worker's keys here. In a rolling
 * key rotation another node may have it: a job whose args fail this way goes back to the queue,
 * as a job of an unknown worker does, instead of being cancelled.
 */
export class KobanUnknownKeyError extends KobanError {
  readonly keyId: string;

  constructor(message: string, keyId: string) {
    super('unknown_key', message);
    this.keyId = keyId;
  }
}

/** A `@Recorded` worker returned a value larger than its limit, measured after compression. */
export class KobanRecordedLimitError extends KobanError {
  readonly bytes: number;
  readonly limit: number;

  constructor(worker: string, bytes: number, limit: number) {
    super(
      'recorded_too_large',
      `${worker} returned a value of ${bytes} bytes after compression, over its @Recorded limit of ${limit} bytes: ` +
        'return less (store big data elsewhere and record a reference), or raise @Recorded({ limit })',
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A workflow could not be built, inserted or appended to: an unknown id or dep, a cycle, a taken id. */
export class KobanWorkflowError extends KobanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('workflow', message, options);
  }
}

/** A batch could not be inserted or appended to: an unknown or finished batch, a bad callback worker. */
export class KobanBatchError extends KobanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('batch', message, options);
  }
}

/** `koban.awaitJob` or `awaitResult` gave up waiting: the job goes on, only the wait ended. */
export class KobanAwaitTimeoutError extends KobanError {
  readonly jobId: string;

  constructor(jobId: string, timeoutMs: number, state: string, kind: 'job' | 'workflow' = 'job') {
    super(
      'await_timeout',
      `${kind} ${jobId} had not finished after ${timeoutMs} ms (it is ${state}); the ${kind} goes on: wait again, or raise the timeout`,
    );
    this.jobId = jobId;
  }
}

/**
 * `koban.awaitResult` has no value to give: the job was discarded or cancelled, was deleted, or
 * completed without a stored value. `job` is the job as it ended (undefined once deleted).
 */
export class KobanJobFailedError extends KobanError {
  readonly jobId: string;
  readonly job: unknown;

  constructor(jobId: string, message: string, job?: unknown) {
    super('job_failed', message);
    this.jobId = jobId;
    this.job = job;
  }
}

/** A `koban/testing` assertion failed: the message says what was expected and what was found. */
export class KobanAssertionError extends KobanError {
  constructor(message: string) {
    super('assertion', message);
  }
}

/**
 * Whose mistake a bad value is decides the class of error, whichever code finds it: an option
 * read when a worker is defined or a node starts (`config`), an argument of a call (`argument`),
 * a workflow being built (`workflow`).
 */
export type Fault = 'config' | 'argument' | 'workflow';

/** The error for a bad value at `where`, by whose mistake it is; the message reads `where: message`. */
export function faultError(fault: Fault, where: string, message: string): KobanError {
  if (fault === 'argument') return new KobanValidationError([{ path: where, message }]);
  if (fault === 'workflow') return new KobanWorkflowError(`${where}: ${message}`);
  return new KobanConfigError(`${where}: ${message}`);
}
