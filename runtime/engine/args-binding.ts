/**
 * What an encrypted envelope is bound to: GCM authenticates `scope` with the ciphertext, so an
 * envelope copied to another job, or from a cron entry or a batch's callback into a job, fails
 * to open there. `label` names the owner in errors.
 */
export interface ArgsBinding {
  readonly scope: string;
  readonly label: string;
}

/** A job's own args: bound to its id, which it keeps for good (rescue and retry keep it too). */
export function jobBinding(id: string): ArgsBinding {
  return { scope: `job:${id}`, label: `job ${id}` };
}

/** A batch's callback args, written once for the batch and copied into each callback job. */
export function batchCallbackBinding(batchId: string, jobId?: string): ArgsBinding {
  return {
    scope: `batch:${batchId}`,
    label: jobId === undefined ? `the callback of batch ${batchId}` : `job ${jobId}`,
  };
}

/** A stored cron entry's args, from which each tick's job is sealed afresh. */
export function cronBinding(name: string): ArgsBinding {
  return { scope: `cron:${name}`, label: `cron entry ${name}` };
}

/** The binding of a job row's args: a batch callback job carries its batch's, any other its own. */
export function bindingOfJob(job: {
  readonly id: string;
  readonly batchId: string | null;
  readonly batchCallback: string | null;
}): ArgsBinding {
  return job.batchCallback !== null && job.batchId !== null
    ? batchCallbackBinding(job.batchId, job.id)
    : jobBinding(job.id);
}
