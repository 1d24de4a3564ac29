import { v001 } from './v001.js';
import { v002 } from './v002.js';
import { v003 } from './v003.js';
import { v004 } from './v004.js';
import { v005 } from './v005.js';
import { v006 } from './v006.js';
import { v007 } from './v007.js';
import { v008 } from './v008.js';
import { v009 } from './v009.js';
import { v010 } from './v010.js';
import { v011 } from './v011.js';
import { v012 } from './v012.js';
import { v013 } from './v013.js';
import { v014 } from './v014.js';
import { v015 } from './v015.js';

/**
 * Every migration in order, each a list of statements; the array index + 1 is the version. Append only: a migration that has
 * shipped is never edited, since databases record only the version they reached.
 */
export const migrations: readonly ((schema: string) => string[])[] = [
  v001,
  v002,
  v003,
  v004,
  v005,
  v006,
  v007,
  v008,
  v009,
  v010,
  v011,
  v012,
  v013,
  v014,
  v015,
];

export const latestVersion = migrations.length;
