import type { Catalogue } from "./index.js";

export const ru: Catalogue = {
  name: "Russian",
  anonymous: "Бывший боевик",
  quoteMarks: ["«", "»"],
  narrative: {
    infighting: "ИГ воюет с другими мусульманами-суннитами, а не с Асадом",
    brutality: "Жестокость по отношению к мусульманам-суннитам",
    corruption: "Коррупция и неисламское поведение",
    disillusionment: "Жизнь под властью ИГ тяжела и приносит разочарование",
    other: "Другое",
  },
};
