import { afterEach } from 'vitest';
import { Koban, type KobanConfig } from '../../index.js';
import { quietLogger } from './wait.js';

const started: Koban[] = [];

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((koban) => koban.stop()));
});

/** Starts a Koban for a test with quick timers and a quiet logger; it is stopped after the test. */
export async function startKoban(config: KobanConfig): Promise<Koban> {
  const koban = await Koban.start({
    logger: quietLogger,
    pollInterval: 200,
    stageInterval: 200,
    shutdownGrace: 2000,
    ...config,
  });
  started.push(koban);
  return koban;
}
