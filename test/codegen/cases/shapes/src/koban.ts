// The app's own entry for koban: decorators re-exported and renamed, as some codebases do.
import { Worker } from 'koban';

export { Structured, Worker } from 'koban';
export const Task = Worker;
