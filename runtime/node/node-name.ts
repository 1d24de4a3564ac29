import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A name unique to this process, readable in `attempted_by`: host, pid and a random suffix. */
export function defaultNodeName(): string {
  return `${hostname()}.${process.pid}.${randomBytes(3).toString('hex')}`;
}
