import { parse } from "node-cron";

/**
 * A cron expression expanded by node-cron's own parser, plus the day tests node-cron 4 applies:
 * day-of-month AND day-of-week must both match (unlike classic cron's OR), 0 and 7 are Sunday,
 * and the tokens L, L-n, nW, LW (day of month) and n#k, nL (day of week).
 */
export type CronSpec = {
  seconds: number[];
  minutes: number[];
  hours: number[];
  months: Set<number>;
  dayOfMonth: (number | string)[];
  dayOfWeek: (number | string)[];
  /**
   * Vixie cron's "wildcard" job (minute or hour field covers every value): it keeps to elapsed time
   * across a DST change instead of to the wall clock. See slots.ts.
   */
  byElapsedTime: boolean;
};

const cache = new Map<string, CronSpec>();
const asc = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

export function compileCron(expr: string): CronSpec {
  const hit = cache.get(expr);
  if (hit) return hit;
  const f = parse(expr);
  const spec: CronSpec = {
    seconds: asc(f.second),
    minutes: asc(f.minute),
    hours: asc(f.hour),
    months: new Set(f.month),
    dayOfMonth: f.dayOfMonth,
    dayOfWeek: f.dayOfWeek.map((d) =>
      d === 7 ? 0 : typeof d === "string" && d.startsWith("7") ? `0${d.slice(1)}` : d,
    ),
    byElapsedTime: new Set(f.minute).size === 60 || new Set(f.hour).size === 24,
  };
  if (cache.size > 1000) cache.clear();
  cache.set(expr, spec);
  return spec;
}

/** Does the spec fire at all on this civil date (month 1–12)? */
export function dayMatches(spec: CronSpec, year: number, month: number, day: number): boolean {
  if (!spec.months.has(month)) return false;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return (
    matchesDayOfMonth(spec.dayOfMonth, year, month, day) &&
    matchesDayOfWeek(spec.dayOfWeek, year, month, day, weekday)
  );
}

const lastDayOf = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOf(year, month);
  if (target < 1 || target > last) return -1;
  const weekday = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
  if (weekday === 6) return target === 1 ? target + 2 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: (number | string)[], year: number, month: number, day: number): boolean {
  for (const v of field) {
    if (v === day) return true;
    if (typeof v !== "string") continue;
    if (v === "L" && day === lastDayOf(year, month)) return true;
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w) {
      const target = w[1] === "L" ? lastDayOf(year, month) : Number(w[1]);
      if (nearestWeekday(year, month, target) === day) return true;
    }
    const off = /^L-(\d{1,2})$/.exec(v);
    if (off && lastDayOf(year, month) - Number(off[1]) === day) return true;
  }
  return false;
}

function matchesDayOfWeek(
  field: (number | string)[],
  year: number,
  month: number,
  day: number,
  weekday: number,
): boolean {
  for (const v of field) {
    if (v === weekday) return true;
    if (typeof v !== "string") continue;
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth && Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2]))
      return true;
    const last = /^([0-7])L$/i.exec(v);
    if (last && Number(last[1]) % 7 === weekday && day + 7 > lastDayOf(year, month)) return true;
  }
  return false;
}
