import { describe, expect, it } from 'vitest';
import { KobanConfigError } from '../../index.js';
import { checkedVersions, checkPostgresDriver } from '../../runtime/database/postgres-workarounds.js';

// Koban's workarounds for postgres.js rely on its internals: outside the versions they were
// checked on, opening a client must fail at once with what to do, not misbehave later.

describe('the postgres.js version check', () => {
  it('accepts the installed version, which is in the checked range', () => {
    expect(() => checkPostgresDriver()).not.toThrow();
    expect(() => checkPostgresDriver(checkedVersions.from)).not.toThrow();
  });

  it('refuses a version outside the range, naming it, the range and the way out', () => {
    for (const version of ['3.5.0', '3.4.8', '4.0.0', 'unknown']) {
      let error: unknown;
      try {
        checkPostgresDriver(version);
      } catch (caught) {
        error = caught;
      }
      expect(error, version).toBeInstanceOf(KobanConfigError);
      expect((error as Error).message).toContain(`postgres (postgres.js) ${version} is installed`);
      expect((error as Error).message).toContain(
        `${checkedVersions.from} up to below ${checkedVersions.below}`,
      );
      expect((error as Error).message).toContain('Koban.start({ database })');
    }
  });
});
