/**
 * Over-promotion costs a speaker credibility (and exposure raises their risk): a drop takes approved
 * outputs round-robin across speakers, oldest approval first, at most `perDrop` from one speaker and
 * no more than their rolling seven-day allowance. The rest wait for a later drop.
 */
export function selectForDrop<T extends { speakerId: string }>(
  oldestFirst: T[],
  limits: { perDrop: number; per7Days?: number; exportedLast7Days?: (speakerId: string) => number },
): { selected: T[]; deferred: T[] } {
  const queues = new Map<string, T[]>();
  for (const item of oldestFirst) {
    const q = queues.get(item.speakerId) ?? [];
    q.push(item);
    queues.set(item.speakerId, q);
  }
  const allowance = new Map<string, number>();
  for (const speaker of queues.keys()) {
    const weekLeft =
      limits.per7Days === undefined
        ? Number.POSITIVE_INFINITY
        : limits.per7Days - (limits.exportedLast7Days?.(speaker) ?? 0);
    allowance.set(speaker, Math.max(0, Math.min(limits.perDrop, weekLeft)));
  }
  const selected: T[] = [];
  let took = true;
  while (took) {
    took = false;
    for (const [speaker, q] of queues) {
      const left = allowance.get(speaker) ?? 0;
      if (left > 0 && q.length > 0) {
        selected.push(q.shift()!);
        allowance.set(speaker, left - 1);
        took = true;
      }
    }
  }
  const chosen = new Set(selected);
  return { selected, deferred: oldestFirst.filter((x) => !chosen.has(x)) };
}
