/** Args of a step that reads everything it needs from upstream results. */
export type NoArgs = Record<string, never>;
