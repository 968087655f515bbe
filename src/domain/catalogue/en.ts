import type { Catalogue } from "./index.js";

export const en: Catalogue = {
  name: "English",
  anonymous: "A former fighter",
  quoteMarks: ["“", "”"],
  narrative: {
    infighting: "IS fights fellow Sunni Muslims instead of Assad",
    brutality: "Brutality against Sunni Muslims",
    corruption: "Corruption and un-Islamic conduct",
    disillusionment: "Life under IS is harsh and disappointing",
    other: "Other",
  },
};
