import { type CronSpec, compileCron, dayMatches } from "./cron-fields.js";
import { DAY, type DayZone, dayZone, wallAt } from "./zone.js";

/**
 * Slots: the instants a campaign's schedule stands for. Pure, no I/O.
 *
 * Daylight saving follows Vixie cron (docs/schedule.md):
 * - a fixed-time drop (neither minute nor hour field covers every value, e.g. `30 2 * * *`) whose wall
 *   time falls in a skipped hour runs once, at the first instant after the gap (03:00 local); one whose
 *   wall time occurs twice runs once, at its first occurrence;
 * - a "wildcard" drop (`0 * * * *`, `*\/5 * * * * *`) keeps to elapsed time: no slot for wall times
 *   that do not exist, a slot for each occurrence of a repeated wall time.
 *
 * Walks local days and the expanded field sets directly (no per-minute probing); the zone is read
 * twice per local day, and only transition days cost a short binary search.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MAX_SEARCH = 100 * 366 * DAY;

const startOfDay = (wall: number) => Math.floor(wall / DAY) * DAY;

/**
 * Pushes the slot instant(s) of one wall time on a transition day, within (from, to]. The clock
 * reads `wall` at `early` (old offset) if that is before the transition, at `late` (new offset) if
 * that is at or after it: neither inside a spring-forward gap, both inside a repeated hour.
 */
function pushShifted(spec: CronSpec, zone: DayZone, wall: number, from: number, to: number, out: number[]) {
  const transition = zone.transition!;
  const early = wall - zone.before;
  const late = wall - zone.after;
  const hasEarly = early < transition;
  const hasLate = late >= transition;
  if (!hasEarly && !hasLate) {
    // Skipped wall time: a fixed-time drop runs once, at the first instant after the gap.
    if (!spec.byElapsedTime && transition > from && transition <= to) out.push(transition);
    return;
  }
  if (hasEarly && early > from && early <= to) out.push(early);
  // Repeated wall time: only a wildcard drop runs again in the second pass.
  if (hasLate && (spec.byElapsedTime || !hasEarly) && late > from && late <= to) out.push(late);
}

function between(spec: CronSpec, timeZone: string, from: number, to: number): number[] {
  if (!(to > from)) return [];
  const out: number[] = [];
  let shifted = false; // a transition day was walked: order and uniqueness need restoring
  // One spare local day each side: a day's instants reach up to 14 h beyond its UTC date.
  const lastDay = startOfDay(wallAt(timeZone, to)) + DAY;
  for (let d = startOfDay(wallAt(timeZone, from)) - DAY; d <= lastDay; d += DAY) {
    const date = new Date(d);
    if (!dayMatches(spec, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())) continue;
    const zone = dayZone(timeZone, d);
    // A wall time's instants lie in [wall - max offset, wall - min offset]: keep walls in (lo, hi].
    const lo = from + Math.min(zone.before, zone.after);
    const hi = to + Math.max(zone.before, zone.after);
    if (d + DAY <= lo || d > hi) continue;
    const steady = zone.transition === undefined;
    shifted ||= !steady;
    for (const h of spec.hours) {
      const hw = d + h * HOUR;
      if (hw + HOUR <= lo) continue;
      if (hw > hi) break;
      for (const m of spec.minutes) {
        const mw = hw + m * MINUTE;
        if (mw + MINUTE <= lo) continue;
        if (mw > hi) break;
        for (const s of spec.seconds) {
          const wall = mw + s * 1000;
          if (wall <= lo) continue;
          if (wall > hi) break;
          if (steady)
            out.push(wall - zone.before); // the common case: one offset all day, no allocation
          else pushShifted(spec, zone, wall, from, to, out);
        }
      }
    }
  }
  if (!shifted) return out;
  const sorted = Float64Array.from(out).sort();
  const unique: number[] = [];
  for (const t of sorted) if (unique[unique.length - 1] !== t) unique.push(t);
  return unique;
}

/** Slots in (fromExclusive, toInclusive], ascending. */
export function slotsBetween(cron: string, timeZone: string, fromExclusive: Date, toInclusive: Date): Date[] {
  return between(compileCron(cron), timeZone, fromExclusive.getTime(), toInclusive.getTime()).map(
    (t) => new Date(t),
  );
}

/** The first `count` slots strictly after `after` (fewer if none within a century). */
export function nextSlots(cron: string, timeZone: string, after: Date, count: number): Date[] {
  const spec = compileCron(cron);
  const out: number[] = [];
  const end = after.getTime() + MAX_SEARCH;
  let cursor = after.getTime();
  // Windows doubling from one minute: cheap for a every-second cron and for a yearly one alike.
  for (let span = MINUTE; out.length < count && cursor < end; span *= 2) {
    const to = Math.min(cursor + span, end);
    out.push(...between(spec, timeZone, cursor, to));
    cursor = to;
  }
  return out.slice(0, count).map((t) => new Date(t));
}

/** The latest slot in (horizonStart, at], if any. */
export function latestSlotAtOrBefore(
  cron: string,
  timeZone: string,
  at: Date,
  horizonStart: Date,
): Date | undefined {
  const spec = compileCron(cron);
  const floor = horizonStart.getTime();
  let cursor = at.getTime();
  for (let span = MINUTE; cursor > floor; span *= 2) {
    const from = Math.max(cursor - span, floor);
    const found = between(spec, timeZone, from, cursor);
    if (found.length) return new Date(found[found.length - 1]!);
    cursor = from;
  }
  return undefined;
}

/**
 * The slot a node-cron firing stands for. node-cron passes the scheduled second (`context.date`),
 * which is a wall-clock match; the slot is the latest slot at or before it. Should node-cron fire for
 * a wall time that is not a slot of its own (the second pass of a repeated hour), this maps to the
 * earlier slot, which is already handled, so nothing runs twice.
 */
export function canonicalSlot(cron: string, timeZone: string, firedAt: Date): Date {
  const at = new Date(Math.floor(firedAt.getTime() / 1000) * 1000);
  return latestSlotAtOrBefore(cron, timeZone, at, new Date(at.getTime() - 366 * DAY)) ?? at;
}
