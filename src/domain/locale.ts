import { z } from "zod";

const RTL_LANGUAGES = new Set(["ar", "fa", "ur", "he", "ps", "sd", "ug", "yi", "ckb", "dv"]);

export type Direction = "ltr" | "rtl";

export function canonicalLocale(tag: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical;
  } catch {
    return undefined;
  }
}

export function languageOf(locale: string): string {
  return (locale.split("-")[0] ?? locale).toLowerCase();
}

export function directionOf(locale: string): Direction {
  const script = locale
    .split("-")
    .find((part) => part.length === 4)
    ?.toLowerCase();
  if (script === "latn") return "ltr";
  if (script === "arab" || script === "hebr") return "rtl";
  return RTL_LANGUAGES.has(languageOf(locale)) ? "rtl" : "ltr";
}

export const localeSchema = z.string().transform((tag, ctx) => {
  const canonical = canonicalLocale(tag.trim());
  // BCP 47's syntax allows 5–8 letter languages, but none is registered: "english" is a mistake for "en".
  if (!canonical || !/^[a-z]{2,3}$/.test(languageOf(canonical))) {
    ctx.addIssue({ code: "custom", message: `"${tag}" is not a BCP 47 language tag (e.g. en, ar, en-GB)` });
    return z.NEVER;
  }
  return canonical;
});
