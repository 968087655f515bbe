/**
 * The fixed words of the domain, in a module with no dependencies: the CLI's help lists them without
 * loading zod or anything else (`testimony --help` answers at once).
 */

/** The four narratives of the ICSR report (Neumann, 2015), plus `other`. */
export const NARRATIVES = ["infighting", "brutality", "corruption", "disillusionment", "other"] as const;

export const VETTING_STATES = ["pending", "vetted", "rejected", "retired"] as const;

export const FORMATS = {
  square: { width: 1080, height: 1080 },
  portrait: { width: 1080, height: 1350 },
  story: { width: 1080, height: 1920 },
  landscape: { width: 1200, height: 675 },
} as const;
export type Format = keyof typeof FORMATS;
export const FORMAT_NAMES = Object.keys(FORMATS) as Format[];

export const OUTPUT_STATES = [
  "queued",
  "rendering",
  "in_review",
  "approved",
  "rejected",
  "failed",
  "exported",
  "withdrawn",
] as const;
