import { describe, expect, it } from 'vitest';
import { CoalescedRead } from '../../runtime/database/coalesced-read.js';

// The reads that steps of one claim make together: one call for a turn's keys, each caller its own value.

describe('CoalescedRead', () => {
  it('reads the keys of one turn in one call and gives each caller its own value', async () => {
    const calls: string[][] = [];
    const read = new CoalescedRead(async (keys) => {
      calls.push([...keys]);
      return new Map(keys.filter((key) => key !== 'none').map((key) => [key, `value of ${key}`]));
    });
    const values = await Promise.all([read.get('a'), read.get('b'), read.get('a'), read.get('none')]);
    expect(values).toEqual(['value of a', 'value of b', 'value of a', undefined]);
    expect(calls).toEqual([['a', 'b', 'none']]);
    // Asked after the first read: a read of its own, nothing cached.
    expect(await read.get('a')).toBe('value of a');
    expect(calls).toHaveLength(2);
  });

  it('fails every caller of a read that fails, and reads again next time', async () => {
    let fail = true;
    const read = new CoalescedRead(async (keys) => {
      if (fail) throw new Error('connection lost');
      return new Map(keys.map((key) => [key, key.length]));
    });
    const failed = await Promise.allSettled([read.get('x'), read.get('yy')]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await read.get('yy')).toBe(2);
  });
});
