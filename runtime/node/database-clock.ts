import type { Engine } from '../engine/engine.js';

/**
 * This process's view of the database's clock: its own clock plus the offset measured at the
 * last sync (half a round trip of error). Cron ticks and `scheduleIn` are reckoned by it, so a
 * node whose clock is minutes off neither fires cron early (nor twice, under another node's
 * tick key) nor schedules a job in the past, as rescue and unique periods already did not.
 */
export class DatabaseClock {
  private offset = 0;

  now(): number {
    return Date.now() + this.offset;
  }

  date(): Date {
    return new Date(this.now());
  }

  async sync(engine: Engine): Promise<void> {
    const sent = Date.now();
    const database = await engine.databaseTime();
    const received = Date.now();
    this.offset = database - (sent + received) / 2;
  }
}
