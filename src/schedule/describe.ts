import { compileCron } from "./cron-fields.js";

/**
 * A cron expression in plain English, from the same expansion the scheduler uses (node-cron's parser):
 * "At 09:00, on Monday." Pure. Day rules follow node-cron 4: day of month AND day of week must match.
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const pad = (n: number) => String(n).padStart(2, "0");

function list(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Consecutive numbers as ranges: [1,2,3,5] → ["1–3", "5"] through `name`. */
function runs(values: number[], name: (n: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    out.push(j - i >= 2 ? `${name(values[i]!)} to ${name(values[j]!)}` : name(values[i]!));
    for (let k = i + 1; k <= j && j - i < 2; k++) out.push(name(values[k]!));
    i = j + 1;
  }
  return out;
}

/** Evenly spaced from zero over the whole range (every n): n, else undefined. */
function step(values: number[], size: number): number | undefined {
  if (values.length < 2 || values[0] !== 0) return undefined;
  const n = values[1]! - values[0]!;
  return values.every((v, i) => v === i * n) && values.length === Math.ceil(size / n) ? n : undefined;
}

function timesOfDay(seconds: number[], minutes: number[], hours: number[]): string {
  const sec = seconds.length === 1 && seconds[0] === 0 ? "" : ` (seconds ${list(seconds.map(String))})`;
  const minuteStep = step(minutes, 60);
  const everyHour = hours.length === 24;
  const secondStep = step(seconds, 60);
  if (minutes.length === 60 && everyHour && secondStep) return `Every ${secondStep} seconds`;
  if (minutes.length === 60 && everyHour) return `Every minute${sec}`;
  if (minuteStep && everyHour) return `Every ${minuteStep} minutes${sec}`;
  if (minutes.length === 1 && everyHour) return `Every hour at minute ${pad(minutes[0]!)}${sec}`;
  if (minutes.length * hours.length <= 8) {
    const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
    return `At ${list(times)}${sec}`;
  }
  const hourStep = step(hours, 24);
  if (hourStep && minutes.length === 1) return `Every ${hourStep} hours at minute ${pad(minutes[0]!)}${sec}`;
  return `${minutes.length * hours.length} times a day (minutes ${list(minutes.map(pad))} of hours ${list(hours.map(pad))})${sec}`;
}

export function describeCron(expr: string): string {
  const spec = compileCron(expr);
  const parts = [timesOfDay(spec.seconds, spec.minutes, spec.hours)];
  const dow = spec.dayOfWeek;
  const numericDow = dow.every((d) => typeof d === "number")
    ? [...new Set(dow as number[])].sort((a, b) => a - b)
    : undefined;
  if (numericDow && numericDow.length < 7) parts.push(`on ${list(runs(numericDow, (d) => DAYS[d]!))}`);
  else if (!numericDow) parts.push(`on day of week ${dow.join(", ")}`);
  const dom = spec.dayOfMonth;
  const numericDom = dom.every((d) => typeof d === "number")
    ? [...new Set(dom as number[])].sort((a, b) => a - b)
    : undefined;
  if (numericDom && numericDom.length < 31)
    parts.push(`on day ${list(runs(numericDom, String))} of the month`);
  else if (!numericDom) parts.push(`on day ${dom.join(", ")} of the month`);
  const months = [...spec.months].sort((a, b) => a - b);
  if (months.length < 12) parts.push(`in ${list(runs(months, (m) => MONTHS[m - 1]!))}`);
  if (parts.length === 1) parts.push("every day");
  return `${parts.join(", ")}.`;
}
