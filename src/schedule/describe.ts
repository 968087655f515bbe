import { compileCron } from "./cron-fields.js";

/**
 * A cron expression in plain words, from the same expansion the scheduler uses (node-cron's parser):
 * "At 09:00, on Monday." Pure. Day rules follow node-cron 4: day of month AND day of week must match.
 * The words come from a phrase book: English by default (the CLI and logs), or the pages' catalogue in
 * the viewer's language (`cron.*` keys, see src/http/workspace/schedule-view.ts), so the sentence is
 * built here once and said in any language.
 */

/** The phrases a description is made of; each key is `cron.<key>` in the pages' catalogues. */
export type CronPhrase =
  | "everySeconds"
  | "everyMinute"
  | "everyMinutes"
  | "everyHourAt"
  | "at"
  | "everyHoursAt"
  | "timesADay"
  | "seconds"
  | "onDays"
  | "onDayOfWeek"
  | "onDayOfMonth"
  | "inMonths"
  | "everyDay"
  | "range"
  | "partSeparator"
  | "sentence"
  | "listComma"
  | "listAnd";

export type CronPhrases = {
  /** A phrase with its values filled in; `count` picks the plural form. */
  say(phrase: CronPhrase, values?: Record<string, string | number>): string;
  /** 0 = Sunday. */
  day(d: number): string;
  /** 1 = January. */
  month(m: number): string;
};

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

const ENGLISH_PHRASES: Record<CronPhrase, string> = {
  everySeconds: "Every {{count}} seconds",
  everyMinute: "Every minute",
  everyMinutes: "Every {{count}} minutes",
  everyHourAt: "Every hour at minute {{minute}}",
  at: "At {{times}}",
  everyHoursAt: "Every {{count}} hours at minute {{minute}}",
  timesADay: "{{count}} times a day (minutes {{minutes}} of hours {{hours}})",
  seconds: " (seconds {{seconds}})",
  onDays: "on {{days}}",
  onDayOfWeek: "on day of week {{days}}",
  onDayOfMonth: "on day {{days}} of the month",
  inMonths: "in {{months}}",
  everyDay: "every day",
  range: "{{from}} to {{to}}",
  partSeparator: ", ",
  sentence: "{{text}}.",
  listComma: ", ",
  listAnd: "{{head}} and {{last}}",
};

/** Every phrase, for the catalogue test: each must be `cron.<phrase>` in every page catalogue. */
export const CRON_PHRASES = Object.keys(ENGLISH_PHRASES) as CronPhrase[];

/** English, without the catalogues (the counts here are never 1, so one form is enough). */
export const ENGLISH: CronPhrases = {
  say: (phrase, values = {}) =>
    ENGLISH_PHRASES[phrase].replace(/\{\{(\w+)\}\}/g, (_, k: string) => String(values[k] ?? "")),
  day: (d) => DAYS[d]!,
  month: (m) => MONTHS[m - 1]!,
};

const pad = (n: number) => String(n).padStart(2, "0");

function list(p: CronPhrases, items: string[]): string {
  if (items.length <= 1) return items.join("");
  return p.say("listAnd", {
    head: items.slice(0, -1).join(p.say("listComma")),
    last: items[items.length - 1]!,
  });
}

/** Consecutive numbers as ranges: [1,2,3,5] → ["1 to 3", "5"] through `name`. */
function runs(p: CronPhrases, values: number[], name: (n: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    out.push(
      j - i >= 2 ? p.say("range", { from: name(values[i]!), to: name(values[j]!) }) : name(values[i]!),
    );
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

function timesOfDay(p: CronPhrases, seconds: number[], minutes: number[], hours: number[]): string {
  const sec =
    seconds.length === 1 && seconds[0] === 0
      ? ""
      : p.say("seconds", { seconds: list(p, seconds.map(String)) });
  const minuteStep = step(minutes, 60);
  const everyHour = hours.length === 24;
  const secondStep = step(seconds, 60);
  if (minutes.length === 60 && everyHour && secondStep) return p.say("everySeconds", { count: secondStep });
  if (minutes.length === 60 && everyHour) return `${p.say("everyMinute")}${sec}`;
  if (minuteStep && everyHour) return `${p.say("everyMinutes", { count: minuteStep })}${sec}`;
  if (minutes.length === 1 && everyHour) return `${p.say("everyHourAt", { minute: pad(minutes[0]!) })}${sec}`;
  if (minutes.length * hours.length <= 8) {
    const times = hours.flatMap((h) => minutes.map((m) => `${pad(h)}:${pad(m)}`));
    return `${p.say("at", { times: list(p, times) })}${sec}`;
  }
  const hourStep = step(hours, 24);
  if (hourStep && minutes.length === 1)
    return `${p.say("everyHoursAt", { count: hourStep, minute: pad(minutes[0]!) })}${sec}`;
  const many = p.say("timesADay", {
    count: minutes.length * hours.length,
    minutes: list(p, minutes.map(pad)),
    hours: list(p, hours.map(pad)),
  });
  return `${many}${sec}`;
}

export function describeCron(expr: string, p: CronPhrases = ENGLISH): string {
  const spec = compileCron(expr);
  const parts = [timesOfDay(p, spec.seconds, spec.minutes, spec.hours)];
  const dow = spec.dayOfWeek;
  const numericDow = dow.every((d) => typeof d === "number")
    ? [...new Set(dow as number[])].sort((a, b) => a - b)
    : undefined;
  if (numericDow && numericDow.length < 7)
    parts.push(
      p.say("onDays", {
        days: list(
          p,
          runs(p, numericDow, (d) => p.day(d)),
        ),
      }),
    );
  else if (!numericDow) parts.push(p.say("onDayOfWeek", { days: dow.join(p.say("listComma")) }));
  const dom = spec.dayOfMonth;
  const numericDom = dom.every((d) => typeof d === "number")
    ? [...new Set(dom as number[])].sort((a, b) => a - b)
    : undefined;
  if (numericDom && numericDom.length < 31)
    parts.push(p.say("onDayOfMonth", { days: list(p, runs(p, numericDom, String)) }));
  else if (!numericDom) parts.push(p.say("onDayOfMonth", { days: dom.join(p.say("listComma")) }));
  const months = [...spec.months].sort((a, b) => a - b);
  if (months.length < 12)
    parts.push(
      p.say("inMonths", {
        months: list(
          p,
          runs(p, months, (m) => p.month(m)),
        ),
      }),
    );
  if (parts.length === 1) parts.push(p.say("everyDay"));
  return p.say("sentence", { text: parts.join(p.say("partSeparator")) });
}
