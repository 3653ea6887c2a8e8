/**
 * Binary search over items sorted by start offset: the last item starting at or before `offset`.
 * Keeps per-relocation lookups logarithmic, so hostile inputs with many entries stay fast.
 */
export function lastStartingAtOrBefore<T>(
  sorted: readonly T[],
  offset: number,
  start: (item: T) => number,
): T | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start(sorted[mid]) <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : sorted[lo - 1];
}
