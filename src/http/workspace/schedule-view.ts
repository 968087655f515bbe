import { z } from "zod";
import { scheduleSchema } from "../../domain/campaign.js";
import { describeCron } from "../../schedule/describe.js";
import { nextSlots } from "../../schedule/slots.js";

export const scheduleQuery = z.object({
  cron: z.string().max(200).optional(),
  timeZone: z.string().max(100).optional(),
  viewerZone: z.string().max(100).optional(),
});

/** An instant as people read it in one zone: "Mon 7 Dec 2026, 09:00 GMT+3". */
export function inZone(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(at);
}

const validZone = (tz: string | undefined) => {
  if (!tz) return undefined;
  try {
    return new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
};

/**
 * The schedule in plain words and its next drops in the campaign's zone and the viewer's, from the
 * scheduler's own slot code; a cron or zone the campaign schema refuses gives its message instead.
 */
export function scheduleView(
  cron: string,
  timeZone: string,
  viewerZone?: string,
  count = 5,
  now = new Date(),
) {
  const parsed = scheduleSchema.safeParse({ cron: cron.trim(), timeZone: timeZone.trim() });
  if (!parsed.success) return { scheduleError: parsed.error.issues.map((i) => i.message).join("; ") };
  const { cron: expr, timeZone: zone } = parsed.data;
  const viewer = validZone(viewerZone);
  return {
    description: describeCron(expr),
    zone,
    viewerZone: viewer && viewer !== zone ? viewer : undefined,
    drops: nextSlots(expr, zone, now, count).map((at) => ({
      iso: at.toISOString(),
      campaign: inZone(at, zone),
      viewer: viewer && viewer !== zone ? inZone(at, viewer) : undefined,
    })),
  };
}
