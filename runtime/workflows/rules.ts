import { jobStates, stateBit } from '../../sdk/states.js';

/**
 * Which dep outcomes a step counts as done, besides `completed`: an edge's `ignore` bits. The
 * bits of `cancelled` and `discarded` are their state bits; a dep deleted before it finished
 * takes the bit after the last state.
 */
export const ignoreBits = {
  cancelled: stateBit('cancelled'),
  discarded: stateBit('discarded'),
  deleted: 1 << jobStates.length,
} as const;

/** The `ignore` bits a step's flags give. */
export function ignoreMask(flags: {
  readonly ignoreCancelled?: boolean;
  readonly ignoreDiscarded?: boolean;
  readonly ignoreDeleted?: boolean;
}): number {
  return (
    (flags.ignoreCancelled ? ignoreBits.cancelled : 0) |
    (flags.ignoreDiscarded ? ignoreBits.discarded : 0) |
    (flags.ignoreDeleted ? ignoreBits.deleted : 0)
  );
}

/** The SQL bit of a dep outcome (`completed` counts as done anyway). */
function outcomeBit(state: string): string {
  return `CASE ${state} WHEN 'cancelled' THEN ${ignoreBits.cancelled} WHEN 'discarded' THEN ${ignoreBits.discarded} WHEN 'deleted' THEN ${ignoreBits.deleted} ELSE 0 END`;
}

/**
 * The one rule of whether a dep that ended in `state` counts as done for an edge whose `ignore`
 * bits are `ignore` (SQL): the release, the sweeper and appends all use it.
 */
export function countsAsDoneSql(state: string, ignore: string): string {
  return `(${state} = 'completed' OR (${ignore} & ${outcomeBit(state)}) <> 0)`;
}

/** The option that would have let a step run after a dep ended in `state` (SQL). */
export function ignoreOption(state: string): string {
  return `CASE ${state} WHEN 'cancelled' THEN 'ignoreCancelled' WHEN 'discarded' THEN 'ignoreDiscarded' ELSE 'ignoreDeleted' END`;
}
