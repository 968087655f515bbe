import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { FastifyRequest } from "fastify";
import i18next, { type i18n } from "i18next";
import { TEMPLATES_DIR } from "../paths.js";

/**
 * The languages of the pages (/review, the sign-in page and the staff workspace). One JSON catalogue
 * per language in src/templates/pages/i18n/<code>.json, read once when the app is built; the list of
 * languages is the list of files, so adding a language is adding one file. Each catalogue names itself
 * (`meta.name`, in its own language, for the switcher) and its direction (`meta.dir`: ltr or rtl).
 * Plurals follow i18next's CLDR suffixes (`_one`, `_other`; Arabic also `_zero`, `_two`, `_few`, `_many`).
 */
export const DEFAULT_LANGUAGE = "en";
export const CATALOGUE_DIR = path.join(TEMPLATES_DIR, "pages", "i18n");

export type Catalogue = Record<string, unknown>;
export type Language = { code: string; name: string; dir: "ltr" | "rtl" };

export type Translator = {
  languages: Language[];
  /** A known language code, or the default. */
  pick(code: string | undefined): string;
  dir(code: string): "ltr" | "rtl";
  t(lang: string, key: string, values?: Record<string, unknown>): string;
  /**
   * The raw strings under some top-level keys, flattened ("wsjs.fits" → "Fits: …"), the language's
   * over English: what a page hands its script, which fills in `{{values}}` and picks plurals itself.
   */
  strings(lang: string, prefixes: readonly string[]): Record<string, string>;
};

function flat(tree: unknown, prefix: string, out: Record<string, string>) {
  if (tree && typeof tree === "object")
    for (const [k, v] of Object.entries(tree)) flat(v, `${prefix}.${k}`, out);
  else if (tree !== undefined) out[prefix] = String(tree);
}

export function readCatalogues(dir = CATALOGUE_DIR): Map<string, Catalogue> {
  const files = readdirSync(dir)
    .filter((f) => /^[a-z]{2,3}(?:-[A-Za-z0-9]+)*\.json$/.test(f))
    .sort();
  return new Map(
    files.map((f) => [
      f.replace(/\.json$/, ""),
      JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Catalogue,
    ]),
  );
}

export function loadTranslator(dir = CATALOGUE_DIR): Translator {
  const catalogues = readCatalogues(dir);
  if (!catalogues.has(DEFAULT_LANGUAGE)) throw new Error(`no ${DEFAULT_LANGUAGE}.json in ${dir}`);
  const instance: i18n = i18next.createInstance();
  void instance.init({
    resources: Object.fromEntries([...catalogues].map(([code, c]) => [code, { translation: c }])),
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: [...catalogues.keys()],
    initAsync: false,
    // Handlebars escapes what the helper returns, and the routes' messages go through templates too:
    // escaping here as well would show `&amp;` on the page.
    interpolation: { escapeValue: false },
    returnNull: false,
  } as Parameters<i18n["init"]>[0]);
  const languages: Language[] = [...catalogues].map(([code, c]) => {
    const meta = (c.meta ?? {}) as { name?: string; dir?: string };
    return { code, name: meta.name ?? code, dir: meta.dir === "rtl" ? "rtl" : "ltr" };
  });
  const byCode = new Map(languages.map((l) => [l.code, l]));
  const flattened = new Map<string, Record<string, string>>();
  // Words said without values, by language and key; capped, as a route may ask for keys built from input.
  const plain = new Map<string, string>();
  return {
    languages,
    pick: (code) => (code && byCode.has(code) ? code : DEFAULT_LANGUAGE),
    dir: (code) => byCode.get(code)?.dir ?? "ltr",
    t: (lang, key, values) => {
      const lng = byCode.has(lang) ? lang : DEFAULT_LANGUAGE;
      // A word without values never changes (the catalogues are read once): look it up once. A
      // page of 50 quotes says a handful of words 50 times each.
      if (values && Object.keys(values).length) return instance.t(key, { ...values, lng });
      const id = `${lng}\n${key}`;
      let said = plain.get(id);
      if (said === undefined) {
        said = instance.t(key, { lng });
        if (plain.size < 10_000) plain.set(id, said);
      }
      return said;
    },
    strings: (lang, prefixes) => {
      // Every workspace page asks for the same sections: flattened once per language.
      const memo = `${lang}\n${prefixes.join(",")}`;
      const known = flattened.get(memo);
      if (known) return known;
      const out: Record<string, string> = {};
      for (const code of [DEFAULT_LANGUAGE, lang])
        for (const p of prefixes) flat(catalogues.get(code)?.[p], p, out);
      flattened.set(memo, out);
      return out;
    },
  };
}

/**
 * The best of `available` for an Accept-Language header: by quality, an exact tag first, then its
 * primary language (`ar-EG` → `ar`); nothing acceptable gives the default.
 */
export function negotiate(header: string | undefined, available: readonly string[]): string {
  if (!header) return DEFAULT_LANGUAGE;
  const wanted = header
    .split(",")
    .slice(0, 20)
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((w) => w.tag && w.tag !== "*" && w.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  const lower = new Map(available.map((a) => [a.toLowerCase(), a]));
  for (const w of wanted) {
    const found = lower.get(w.tag) ?? lower.get(w.tag.split("-")[0]!);
    if (found) return found;
  }
  return DEFAULT_LANGUAGE;
}

/** The page language of a request: the signed-in user's choice, else the browser's Accept-Language. */
export function requestLanguage(req: FastifyRequest, translator: Translator): string {
  const chosen = req.session?.lang;
  if (chosen && translator.languages.some((l) => l.code === chosen)) return chosen;
  return negotiate(
    req.headers["accept-language"],
    translator.languages.map((l) => l.code),
  );
}
