import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/errors.js";
import { FAILURE_REASONS } from "../../src/domain/output.js";
import { ATTRIBUTIONS } from "../../src/domain/speaker.js";
import { ROLES } from "../../src/domain/user.js";
import { FORMAT_NAMES, OUTPUT_STATES, VETTING_STATES } from "../../src/domain/vocabulary.js";
import {
  CATALOGUE_DIR,
  type Catalogue,
  DEFAULT_LANGUAGE,
  loadTranslator,
  negotiate,
  readCatalogues,
} from "../../src/http/i18n.js";
import { DECISION_KEYS, NARRATIVE_KEYS, VARIANT_KEYS } from "../../src/http/review/view-model.js";
import { CAMPAIGN_NAV_KEYS } from "../../src/http/workspace/campaign-nav.js";
import { NAV_ITEMS } from "../../src/http/workspace/nav.js";
import { TEMPLATES_DIR } from "../../src/paths.js";
import { CRON_PHRASES } from "../../src/schedule/describe.js";

/**
 * The pages' catalogues (src/templates/pages/i18n/*.json) against each other and against the code:
 * a key missing in any language, a plural form a language needs, a key a template or a route uses
 * that English does not have, each fails here with its name.
 */
const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(c: Catalogue, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(c)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object") for (const [kk, vv] of flatten(v as Catalogue, key)) out.set(kk, vv);
    else out.set(key, String(v));
  }
  return out;
}

/** base key → the plural categories it has (empty set: a plain string). */
function shape(flat: Map<string, string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const key of flat.keys()) {
    const m = PLURAL.exec(key);
    const base = m ? key.slice(0, -m[0].length) : key;
    const forms = out.get(base) ?? new Set<string>();
    if (m) forms.add(m[1]!);
    out.set(base, forms);
  }
  return out;
}

const vars = (s: string) => new Set([...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!));

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(path.join(dir, e.name), ext)
      : e.name.endsWith(ext)
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Every literal key the page templates and the HTTP code ask for, with where it is used. */
function usedKeys(): Map<string, string> {
  const used = new Map<string, string>();
  const root = path.resolve(TEMPLATES_DIR, "..", "..");
  for (const file of files(path.join(TEMPLATES_DIR, "pages"), ".hbs")) {
    const text = readFileSync(file, "utf8");
    // {{t "key" …}} and the sub-expression (t "key" …)
    for (const m of text.matchAll(/(?:\{\{~?|\()\s*t\s+"([^"]+)"/g))
      used.set(m[1]!, path.relative(root, file));
  }
  for (const file of files(path.join(root, "src", "http"), ".ts")) {
    const text = readFileSync(file, "utf8");
    // t("key"), t(lang, "key"), say(req, "key"), say(req, pages, "key"), pages.i18n.t(lang, "key")
    for (const m of text.matchAll(/\b(?:t|say)\((?:[^()"]*?,\s*)?"([a-z]\w*(?:\.\w+)+)"/g))
      used.set(m[1]!, path.relative(root, file));
    // Key tables of the workspace routes (e.g. the notices after an action): "quotes.doneVet".
    for (const m of text.matchAll(/"((?:quotes|campaigns|speakers|plan|check|withdraw|audit)\.[A-Za-z_]+)"/g))
      used.set(m[1]!, path.relative(root, file));
  }
  // The workspace script's messages: t("wsjs.key", …) in workspace.js, from the page's data-words.
  const script = path.join(TEMPLATES_DIR, "pages", "workspace", "workspace.js");
  for (const m of readFileSync(script, "utf8").matchAll(/\bt\("(wsjs\.\w+)"/g))
    used.set(m[1]!, path.relative(root, script));
  // Keys the code builds from data, translated by the templates with {{t someKey}}.
  for (const k of [
    ...NAV_ITEMS.map((i) => i.labelKey),
    ...CAMPAIGN_NAV_KEYS,
    ...Object.values(VARIANT_KEYS),
    ...Object.values(DECISION_KEYS),
    ...Object.values(NARRATIVE_KEYS),
    ...ROLES.map((r) => `role.${r}`),
    // Words held as data, said through {{tk "prefix" value}} or `prefix.${value}` in the routes.
    ...FORMAT_NAMES.map((f) => `format.${f}`),
    ...VETTING_STATES.map((s) => `state.quote.${s}`),
    ...OUTPUT_STATES.map((s) => `state.output.${s}`),
    ...["granted", "withdrawn", "none"].map((s) => `state.consent.${s}`),
    ...ATTRIBUTIONS.map((a) => `state.attribution.${a}`),
    // Every code of the one error catalogue has its words for the pages (and the script).
    ...Object.keys(ERRORS).map((c) => `error.${c}`),
    ...FAILURE_REASONS.map((r) => `failure.${r}`),
    // The cron description's phrases (src/schedule/describe.ts), and the workspace script's messages.
    ...CRON_PHRASES.map((p) => `cron.${p}`),
  ])
    used.set(k, "data keys (nav, view-model, roles)");
  return used;
}

const catalogues = readCatalogues();
const english = shape(flatten(catalogues.get(DEFAULT_LANGUAGE)!));

describe("page catalogues", () => {
  it("there are at least English and Arabic, each naming itself and its direction", () => {
    expect([...catalogues.keys()]).toEqual(expect.arrayContaining(["en", "ar"]));
    for (const [code, c] of catalogues) {
      const meta = c.meta as { name?: string; dir?: string } | undefined;
      expect(meta?.name, `${code}.json meta.name`).toBeTruthy();
      expect(["ltr", "rtl"], `${code}.json meta.dir`).toContain(meta?.dir);
    }
    expect(loadTranslator().dir("ar")).toBe("rtl");
  });

  for (const [code, catalogue] of catalogues) {
    it(`${code}.json has every key of en.json, no other, and the plural forms ${code} needs`, () => {
      const flat = flatten(catalogue);
      const mine = shape(flat);
      const missing = [...english.keys()].filter((k) => !mine.has(k));
      const extra = [...mine.keys()].filter((k) => !english.has(k));
      expect(missing, `keys missing in ${code}.json`).toEqual([]);
      expect(extra, `keys in ${code}.json that en.json does not have`).toEqual([]);
      const needed = new Intl.PluralRules(code).resolvedOptions().pluralCategories;
      const problems: string[] = [];
      for (const [base, forms] of english) {
        const have = mine.get(base)!;
        if (forms.size === 0) {
          if (have.size > 0) problems.push(`${base}: plural in ${code}, plain in en`);
          const ours = vars(flat.get(base)!);
          const theirs = vars(flatten(catalogues.get(DEFAULT_LANGUAGE)!).get(base)!);
          if ([...ours].sort().join() !== [...theirs].sort().join())
            problems.push(
              `${base}: uses {{${[...ours].join("}}, {{")}}} where en uses {{${[...theirs].join("}}, {{")}}}`,
            );
          continue;
        }
        for (const f of needed) if (!have.has(f)) problems.push(`${base}_${f} (needed by ${code} plurals)`);
        const allowed = new Set(
          [...forms].flatMap((f) => [
            ...vars(flatten(catalogues.get(DEFAULT_LANGUAGE)!).get(`${base}_${f}`)!),
          ]),
        );
        for (const f of have)
          for (const v of vars(flat.get(`${base}_${f}`)!))
            if (!allowed.has(v)) problems.push(`${base}_${f}: {{${v}}} is not a value en passes`);
      }
      expect(problems, `${code}.json`).toEqual([]);
    });
  }

  it("every key a template or a route uses is in en.json", () => {
    const missing = [...usedKeys()].filter(([k]) => !english.has(k)).map(([k, where]) => `${k} (${where})`);
    expect(missing).toEqual([]);
    // The scan finds the keys at all (a broken pattern would pass the check above vacuously).
    expect(usedKeys().size).toBeGreaterThan(60);
  });

  it("the catalogue folder holds only catalogues", () => {
    for (const f of readdirSync(CATALOGUE_DIR)) expect(f).toMatch(/^[a-z]{2,3}(?:-[A-Za-z0-9]+)*\.json$/);
  });
});

describe("choosing and using a language", () => {
  const codes = [...catalogues.keys()];
  it("Accept-Language picks by quality, exact tag then primary language, else English", () => {
    expect(negotiate("ar", codes)).toBe("ar");
    expect(negotiate("ar-EG,ar;q=0.9,en;q=0.8", codes)).toBe("ar");
    expect(negotiate("en-GB,en;q=0.9,ar;q=0.8", codes)).toBe("en");
    expect(negotiate("fr-FR,ar;q=0.5", codes)).toBe("ar");
    expect(negotiate("fr, de;q=0.9", codes)).toBe("en");
    expect(negotiate("en;q=0.1, ar;q=0.9", codes)).toBe("ar");
    expect(negotiate("ar;q=0, *", codes)).toBe("en");
    expect(negotiate(undefined, codes)).toBe("en");
    expect(negotiate("garbage;;;q=x,,", codes)).toBe("en");
  });

  it("plurals follow each language's rules, values are interpolated, unknown languages fall back", () => {
    const i18n = loadTranslator();
    expect(i18n.t("en", "review.summary", { count: 1, shown: 1 })).toBe("1 of 1 output in review.");
    expect(i18n.t("en", "review.summary", { count: 3, shown: 2 })).toBe("2 of 3 outputs in review.");
    expect(i18n.t("ar", "review.summary", { count: 2, shown: 2 })).toBe("2 من مُخرَجَين قيد المراجعة.");
    expect(i18n.t("ar", "review.summary", { count: 5, shown: 5 })).toBe("5 من 5 مُخرَجات قيد المراجعة.");
    expect(i18n.t("ar", "review.summary", { count: 11, shown: 11 })).toBe("11 من 11 مُخرَجًا قيد المراجعة.");
    expect(i18n.t("xx", "card.approve")).toBe("Approve");
    expect(i18n.pick("xx")).toBe("en");
    // Values are not escaped here: Handlebars escapes the helper's result once.
    expect(i18n.t("en", "login.notAllowed", { user: "<b>" })).toBe("<b> may not use the review page.");
  });
});
