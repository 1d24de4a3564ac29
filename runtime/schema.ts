import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  customType,
  integer,
  jsonb,
  pgSchema,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { JobError, JobState, JsonObject } from '../sdk/job.js';
import { uniqueActiveExpression } from './migrations/v001.js';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

/**
 * The Drizzle tables of one Koban schema, for custom queries in application code. The default
 * schema is `koban`; `kobanTables('other')` gives the tables of `Koban.start({ schema: 'other' })`.
 */
export function kobanTables(schemaName: string) {
  const schema = pgSchema(schemaName);
  const jobs = schema.table('jobs', {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    state: text('state').$type<JobState>().notNull().default('available'),
    queue: text('queue').notNull().default('default'),
    worker: text('worker').notNull(),
    args: jsonb('args').$type<JsonObject>().notNull().default({}),
    meta: jsonb('meta').$type<JsonObject>().notNull().default({}),
    tags: text('tags').array().notNull().default(sql`'{}'`),
    errors: jsonb('errors').array().$type<JobError[]>().notNull().default(sql`'{}'`),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(20),
    priority: smallint('priority').notNull().default(0),
    insertedAt: timestamptz('inserted_at').notNull().defaultNow(),
    scheduledAt: timestamptz('scheduled_at').notNull().defaultNow(),
    attemptedAt: timestamptz('attempted_at'),
    completedAt: timestamptz('completed_at'),
    cancelledAt: timestamptz('cancelled_at'),
    discardedAt: timestamptz('discarded_at'),
    attemptedBy: text('attempted_by').array().notNull().default(sql`'{}'`),
    uniqueKey: text('unique_key'),
    uniqueStates: smallint('unique_states'),
    uniqueActive: text('unique_active').generatedAlwaysAs(sql.raw(uniqueActiveExpression)),
    /** A @Recorded job's value in Koban's stored format: read it with `koban.fetchRecorded`. */
    recorded: bytea('recorded'),
  });
  const nodes = schema.table('nodes', {
    name: text('name').primaryKey(),
    queues: text('queues').array().notNull().default(sql`'{}'`),
    startedAt: timestamptz('started_at').notNull().defaultNow(),
    heartbeatAt: timestamptz('heartbeat_at').notNull().defaultNow(),
  });
  const leaders = schema.table('leaders', {
    name: text('name').primaryKey(),
    node: text('node').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
  });
  const queues = schema.table('queues', {
    name: text('name').primaryKey(),
    paused: boolean('paused').notNull().default(false),
    limit: integer('limit'),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  });
  const schemaVersions = schema.table('schema_versions', {
    version: integer('version').primaryKey(),
    appliedAt: timestamptz('applied_at').notNull().defaultNow(),
  });
  return { jobs, nodes, leaders, queues, schemaVersions };
}

export type KobanTables = ReturnType<typeof kobanTables>;

/** The tables of the default `koban` schema. */
export const { jobs, nodes, leaders, queues, schemaVersions } = kobanTables('koban');
