import type { Catalogue } from "./index.js";

export const de: Catalogue = {
  name: "German",
  anonymous: "Ein ehemaliger Kämpfer",
  quoteMarks: ["„", "“"],
  narrative: {
    infighting: "Der IS bekämpft sunnitische Muslime statt Assad",
    brutality: "Brutalität gegen sunnitische Muslime",
    corruption: "Korruption und unislamisches Verhalten",
    disillusionment: "Das Leben unter dem IS ist hart und enttäuschend",
    other: "Sonstiges",
  },
};
