import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * Each test run has its own prefix, so concurrent runs on one server never drop each other's
 * databases. The global setup picks it and hands it to the test workers through the environment.
 */
export function runPrefix(): string {
  process.env.KOBAN_TEST_RUN ??= `koban_test_${randomBytes(3).toString('hex')}`;
  return process.env.KOBAN_TEST_RUN;
}

export function templateDatabase(): string {
  return `${runPrefix()}_template`;
}

/** The server the suite runs against; its `test` database is used only to create others. */
export function adminUrl(): string {
  return process.env.KOBAN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new database cloned from the migrated template: one per test file or test. */
export async function freshDatabase(options: { migrated?: boolean } = {}): Promise<string> {
  const name = `${runPrefix()}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    const template = options.migrated === false ? 'template0' : templateDatabase();
    // Cloning needs the template to have no other connections; retry briefly if a clone races another.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (error) {
        if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await admin.end();
  }
  return databaseUrl(name);
}

/** Runs SQL on a database through a short-lived connection, for checks that bypass Koban. */
export async function withSql<T>(url: string, work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}
