type Edit = { readonly kind: ' ' | '-' | '+'; readonly line: string };

/** Past this many changed lines a shortest diff costs too much memory; a coarser one is shown. */
const maxEditDistance = 4000;

/** The shortest edit script between two lists of lines (Myers' greedy algorithm). */
function shortestEdits(before: readonly string[], after: readonly string[]): Edit[] | undefined {
  const n = before.length;
  const m = after.length;
  const offset = n + m + 1;
  const frontier = new Int32Array(2 * offset + 1);
  const history: Int32Array[] = [];
  for (let distance = 0; distance <= Math.min(n + m, maxEditDistance); distance += 1) {
    history.push(frontier.slice());
    for (let diagonal = -distance; diagonal <= distance; diagonal += 2) {
      const down =
        diagonal === -distance ||
        (diagonal !== distance && frontier[offset + diagonal - 1]! < frontier[offset + diagonal + 1]!);
      let x = down ? frontier[offset + diagonal + 1]! : frontier[offset + diagonal - 1]! + 1;
      let y = x - diagonal;
      while (x < n && y < m && before[x] === after[y]) {
        x += 1;
        y += 1;
      }
      frontier[offset + diagonal] = x;
      if (x >= n && y >= m) return backtrack(history, before, after, offset);
    }
  }
  return undefined;
}

function backtrack(
  history: readonly Int32Array[],
  before: readonly string[],
  after: readonly string[],
  offset: number,
): Edit[] {
  const edits: Edit[] = [];
  let x = before.length;
  let y = after.length;
  for (let distance = history.length - 1; distance >= 0; distance -= 1) {
    const frontier = history[distance]!;
    const diagonal = x - y;
    const down =
      diagonal === -distance ||
      (diagonal !== distance && frontier[offset + diagonal - 1]! < frontier[offset + diagonal + 1]!);
    const previousDiagonal = down ? diagonal + 1 : diagonal - 1;
    const previousX = frontier[offset + previousDiagonal]!;
    const previousY = previousX - previousDiagonal;
    while (x > previousX && y > previousY) {
      edits.push({ kind: ' ', line: before[x - 1]! });
      x -= 1;
      y -= 1;
    }
    if (distance === 0) break;
    if (down) edits.push({ kind: '+', line: after[y - 1]! });
    else edits.push({ kind: '-', line: before[x - 1]! });
    x = previousX;
    y = previousY;
  }
  return edits.reverse();
}

/** Common start and end kept, everything between replaced: used when the files differ a lot. */
function coarseEdits(before: readonly string[], after: readonly string[]): Edit[] {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start += 1;
  let end = 0;
  while (
    end < before.length - start &&
    end < after.length - start &&
    before[before.length - 1 - end] === after[after.length - 1 - end]
  ) {
    end += 1;
  }
  return [
    ...before.slice(0, start).map((line) => ({ kind: ' ' as const, line })),
    ...before.slice(start, before.length - end).map((line) => ({ kind: '-' as const, line })),
    ...after.slice(start, after.length - end).map((line) => ({ kind: '+' as const, line })),
    ...before.slice(before.length - end).map((line) => ({ kind: ' ' as const, line })),
  ];
}

/** A unified diff (`--- a`, `+++ b`, `@@` hunks with three lines of context); empty when equal. */
export function unifiedDiff(
  before: string,
  after: string,
  beforeName: string,
  afterName: string,
  context = 3,
): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  const edits = shortestEdits(a, b) ?? coarseEdits(a, b);
  const output = [`--- ${beforeName}`, `+++ ${afterName}`];
  let index = 0;
  let lineA = 1;
  let lineB = 1;
  while (index < edits.length) {
    const firstChange = edits.findIndex((edit, at) => at >= index && edit.kind !== ' ');
    if (firstChange === -1) break;
    const start = Math.max(index, firstChange - context);
    for (let at = index; at < start; at += 1) {
      lineA += 1;
      lineB += 1;
    }
    let end = firstChange;
    let quiet = 0;
    while (end < edits.length && quiet <= context * 2) {
      quiet = edits[end]!.kind === ' ' ? quiet + 1 : 0;
      end += 1;
    }
    end = Math.min(edits.length, end - Math.max(0, quiet - context));
    const hunk = edits.slice(start, end);
    const countA = hunk.filter((edit) => edit.kind !== '+').length;
    const countB = hunk.filter((edit) => edit.kind !== '-').length;
    output.push(`@@ -${lineA},${countA} +${lineB},${countB} @@`);
    for (const edit of hunk) output.push(`${edit.kind}${edit.line}`);
    lineA += countA;
    lineB += countB;
    index = end;
  }
  return `${output.join('\n')}\n`;
}
