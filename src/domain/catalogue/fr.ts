import type { Catalogue } from "./index.js";

export const fr: Catalogue = {
  name: "French",
  anonymous: "Un ancien combattant",
  // French guillemets take a narrow no-break space inside.
  quoteMarks: ["«\u202f", "\u202f»"],
  narrative: {
    infighting: "L’EI combat d’autres musulmans sunnites au lieu d’Assad",
    brutality: "La brutalité envers les musulmans sunnites",
    corruption: "La corruption et une conduite contraire à l’islam",
    disillusionment: "La vie sous l’EI est dure et décevante",
    other: "Autre",
  },
};
