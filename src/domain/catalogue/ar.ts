import type { Catalogue } from "./index.js";

export const ar: Catalogue = {
  name: "Arabic",
  anonymous: "مقاتل سابق",
  quoteMarks: ["«", "»"],
  narrative: {
    infighting: "داعش يقاتل إخوانه من المسلمين السنة بدلًا من الأسد",
    brutality: "الوحشية ضد المسلمين السنة",
    corruption: "الفساد والسلوك المخالف للإسلام",
    disillusionment: "الحياة تحت حكم داعش قاسية ومخيبة للآمال",
    other: "أخرى",
  },
};
