import { randomBytes } from 'node:crypto';
import { type Fault, faultError } from './errors.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks an id given by the caller (a workflow or batch id) and returns it in lower case. */
export function checkUuid(value: unknown, name: string, where: string, fault: Fault = 'argument'): string {
  if (typeof value !== 'string' || !uuidPattern.test(value)) {
    throw faultError(fault, where, `${name} must be a UUID, got ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

/** A UUIDv7 (RFC 9562): time-ordered, so workflow and batch ids sort by creation. */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
