import type { Codec } from './codec.js';

declare const recordedType: unique symbol;

/**
 * A phantom that carries the type a job's worker records, so that
 * `koban.fetchRecorded(await koban.insert(ExtractWorker.new(args)))` is typed without a cast.
 * It never exists at run time.
 */
export interface CarriesResult<Result> {
  readonly [recordedType]?: Result;
}

/** A job to read the recorded value of: its id, or any job object (typed when it carries a result). */
export type RecordedJobRef<Result = unknown> =
  | string
  | number
  | bigint
  | ({ readonly id: string } & CarriesResult<Result>);

/** Why `fetchRecorded` has no value to give. */
export type RecordedMissingReason =
  /** No job has this id: it was never inserted, or was pruned or deleted. */
  | 'not_found'
  /** The job has not completed yet: a value is recorded when `process` returns. */
  | 'not_completed'
  /** The job completed, but its worker was not `@Recorded` when it ran. */
  | 'not_recorded'
  /** The job completed, but its value could not be stored (over the limit, or not storable): the message says why. */
  | 'not_storable';

/**
 * The answer of `fetchRecorded`: the value, or a stated reason why there is none. A missing
 * value is an expected state (the job is still running), so it is a result, not an exception;
 * a value that exists but cannot be read (wrong key, altered bytes) throws instead.
 */
export type RecordedValue<Result> =
  | { readonly status: 'ok'; readonly value: Result }
  | { readonly status: 'missing'; readonly reason: RecordedMissingReason; readonly message: string };

export interface FetchRecordedOptions<Result> {
  /** Decodes the stored value; default: the result codec of the worker's entry in `Koban.start({ workers })`. */
  readonly codec?: Codec<Result>;
}

/**
 * What reads recorded values: a `Koban` instance. Generated builders take one, so that
 * `ExtractWorker.fetchRecorded(koban, id)` is typed by the worker without importing the runtime.
 */
export interface RecordedReader {
  fetchRecorded<Result = unknown>(
    job: RecordedJobRef<Result>,
    options?: FetchRecordedOptions<Result>,
  ): Promise<RecordedValue<Result>>;
}

/**
 * What the generated builder of a `@Recorded` worker adds: `ExtractWorker.fetchRecorded(koban, id)`,
 * typed by the worker's result and decoded with its generated result codec.
 */
export interface RecordedFetcher<Result> {
  fetchRecorded(reader: RecordedReader, job: RecordedJobRef<Result>): Promise<RecordedValue<Result>>;
}
