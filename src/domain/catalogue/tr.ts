import type { Catalogue } from "./index.js";

export const tr: Catalogue = {
  name: "Turkish",
  anonymous: "Eski bir savaşçı",
  quoteMarks: ["“", "”"],
  narrative: {
    infighting: "IŞİD, Esad yerine diğer Sünni Müslümanlarla savaşıyor",
    brutality: "Sünni Müslümanlara karşı vahşet",
    corruption: "Yolsuzluk ve İslam’a aykırı davranış",
    disillusionment: "IŞİD yönetiminde hayat zor ve hayal kırıklığı dolu",
    other: "Diğer",
  },
};
