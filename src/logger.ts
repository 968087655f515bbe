import { type Logger, pino } from "pino";

export type { Logger };

/** Pretty lines for a person at a terminal, JSON for machines; logs go to stderr so stdout stays data. */
export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty) {
    return pino({
      level,
      transport: { target: "pino-pretty", options: { destination: 2, translateTime: "SYS:HH:MM:ss" } },
    });
  }
  return pino({ level }, pino.destination(2));
}
