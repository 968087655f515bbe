import { z } from "zod";

import { NARRATIVES } from "./vocabulary.js";

export { NARRATIVES };
export type Narrative = (typeof NARRATIVES)[number];
export const narrativeSchema = z.enum(NARRATIVES, {
  error: () => `must be one of ${NARRATIVES.join(", ")}`,
});

export const NARRATIVE_LABELS: Record<Narrative, string> = {
  infighting: "IS fights fellow Sunni Muslims instead of Assad",
  brutality: "Brutality against Sunni Muslims",
  corruption: "Corruption and un-Islamic conduct",
  disillusionment: "Life under IS is harsh and disappointing",
  other: "Other",
};
