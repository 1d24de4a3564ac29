import { v004HistoryColumns } from './migrations/v004.js';

/**
 * The columns a finished job keeps in `job_history`, as of the latest migration: every column of
 * `jobs` but the generated `unique_active`. The move in the ack, the trigger (v008), the online
 * move and `all_jobs` all list these.
 */
export const historyColumns = [...v004HistoryColumns, 'progress'] as const;

export type HistoryColumn = (typeof historyColumns)[number];
