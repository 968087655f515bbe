/**
 * Wall clock ↔ instant for one IANA time zone, pure and cached. A "wall" is a local date-time written
 * as if it were UTC milliseconds (Date.UTC of the local fields), which keeps the arithmetic integral.
 */

const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock (as UTC ms) shown in the zone at an instant, to the second. */
export function wallAt(timeZone: string, instant: number): number {
  const t = Math.floor(instant / 1000) * 1000;
  const f: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(t))) {
    if (part.type !== "literal") f[part.type] = Number(part.value);
  }
  return Date.UTC(f.year!, f.month! - 1, f.day!, f.hour === 24 ? 0 : f.hour!, f.minute!, f.second!);
}

/** Offset (wall minus instant) in ms at an instant. */
export const offsetAt = (timeZone: string, instant: number) =>
  wallAt(timeZone, instant) - Math.floor(instant / 1000) * 1000;

/**
 * The zone's behaviour around one local day: the offset before and after, and the instant of the
 * transition between them when there is one. The probes sit a day before and two days after the
 * day's start wall, wider than any UTC offset, so every instant of the day lies between them;
 * tzdb has no zone with two transitions within those three days.
 */
export type DayZone = { before: number; after: number; transition?: number };

const dayZones = new Map<string, DayZone>();

export function dayZone(timeZone: string, dayWall: number): DayZone {
  const key = `${timeZone}|${dayWall}`;
  const hit = dayZones.get(key);
  if (hit) return hit;
  let lo = dayWall - DAY;
  let hi = dayWall + 2 * DAY;
  const before = offsetAt(timeZone, lo);
  const after = offsetAt(timeZone, hi);
  let zone: DayZone = { before, after };
  if (before !== after) {
    // First whole second whose offset is `after`: transitions fall on whole seconds.
    lo = Math.floor(lo / 1000);
    hi = Math.floor(hi / 1000);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(timeZone, mid * 1000) === before) lo = mid;
      else hi = mid;
    }
    zone = { before, after, transition: hi * 1000 };
  }
  if (dayZones.size > 20_000) dayZones.clear();
  dayZones.set(key, zone);
  return zone;
}
