import { describe, expect, it } from 'vitest';
import type { QueuePosition } from '../../runtime/engine/queue-position.js';
import { ClaimFloor } from '../../runtime/node/claim-floor.js';

// When a producer's claims start from the head of the queue and when past the floor
// (runtime/node/claim-floor.ts); the database side is in claim-floor.test.ts.

const at = (id: number): QueuePosition => ({ priority: 0, dueUs: 1_000_000, id: String(id) });

/** A floor whose last claim from the head, at time 0, took `ms` and came back full at `id`. */
function floorAfterHeadClaim(ms: number, id = 10): ClaimFloor {
  const floor = new ClaimFloor();
  expect(floor.start(0)).toBeUndefined();
  floor.claimed(undefined, true, at(id), ms);
  return floor;
}

describe('the claim floor', () => {
  it('starts past the last job while claims come back full, and from the head once one comes back short', () => {
    const floor = floorAfterHeadClaim(1);
    const from = floor.start(10);
    expect(from).toEqual(at(10));
    floor.claimed(from, true, at(20), 1);
    expect(floor.start(20)).toEqual(at(20));
    floor.claimed(at(20), false, at(25), 1);
    expect(floor.start(30)).toBeUndefined();
  });

  it('claims from the head after a NOTIFY, and at least once a second without one', () => {
    const floor = floorAfterHeadClaim(1);
    expect(floor.start(500)).toEqual(at(10));
    floor.jobsAnnounced();
    expect(floor.start(501)).toBeUndefined();
    floor.claimed(undefined, true, at(12), 1);
    expect(floor.start(900)).toEqual(at(12));
    expect(floor.start(1600)).toBeUndefined();
  });

  it('sends one claim from the head at a time: the claims sent while it runs start past the floor', () => {
    const floor = floorAfterHeadClaim(1);
    expect(floor.start(2000)).toBeUndefined();
    expect(floor.start(2001)).toEqual(at(10));
    floor.jobsAnnounced();
    expect(floor.start(2002)).toEqual(at(10));
  });

  it('spaces claims from the head to ten times what the last one took, or failed after', () => {
    const slow = floorAfterHeadClaim(400);
    slow.jobsAnnounced();
    expect(slow.start(3999)).toEqual(at(10));
    expect(slow.start(4000)).toBeUndefined();
    // One abandoned at the claim timeout: no claim from the head for ten times that.
    slow.failed(undefined, 15_000);
    slow.jobsAnnounced();
    expect(slow.start(4000 + 149_999)).toEqual(at(10));
    expect(slow.start(4000 + 150_000)).toBeUndefined();
  });

  it('lowers the floor to where a claim from the head stopped: jobs were found behind it', () => {
    const floor = floorAfterHeadClaim(1, 50);
    expect(floor.start(1000)).toBeUndefined();
    floor.claimed(undefined, true, at(30), 1);
    expect(floor.start(1001)).toEqual(at(30));
    // A claim past the floor that ends before it (it ran beside the claim from the head) leaves it.
    floor.claimed(at(50), true, at(60), 1);
    expect(floor.start(1002)).toEqual(at(60));
    floor.claimed(at(30), true, at(40), 1);
    expect(floor.start(1003)).toEqual(at(60));
  });
});
