import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import type { TextVariant } from "../../domain/campaign.js";
import { neutraliseBidi } from "../../domain/clean-text.js";
import { languageOf } from "../../domain/locale.js";
import type { PublicationView } from "../../domain/publication.js";
import { limitProblem } from "../../domain/text-limits.js";
import { TEMPLATES_DIR } from "../../paths.js";
import { CARD_LAYOUT_VERSION } from "../card/card.render.js";

/**
 * Unicode first-strong isolate (FSI … PDI): keeps Latin hashtags, digits and URLs in order inside
 * Arabic text, and fences the quote and the attribution off from each other, so nothing inside a
 * quote can reorder who said it. Text passed the clean-text gate on the way in; anything stored
 * before that gate existed loses its embeddings, overrides and unpaired isolates here.
 */
export const isolate = (s: unknown) => `\u2068${neutraliseBidi(String(s))}\u2069`;

function createEngine() {
  const hb = Handlebars.create();
  hb.registerHelper("join", (items: unknown[], sep: unknown) =>
    Array.isArray(items) ? items.join(String(sep)) : "",
  );
  hb.registerHelper("isolate", (s: unknown) => isolate(s));
  hb.registerHelper("isolateEach", (items: unknown[], sep: unknown) =>
    Array.isArray(items) ? items.map(isolate).join(String(sep)) : "",
  );
  return hb;
}

export type TextTemplates = {
  /** Hash of the text templates and the card layout version: part of every output id. */
  version: string;
  render(variant: TextVariant, view: PublicationView): string;
};

export class TextTemplateError extends Error {
  constructor(
    readonly reason: "template" | "variant_too_long",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Loads src/templates/text/<variant>.<lang>.hbs once. Plain-text targets: no HTML escaping;
 * strict mode turns a misspelt field into an error instead of an empty string; prototype access
 * stays at Handlebars' safe default.
 */
export function loadTextTemplates(dir = path.join(TEMPLATES_DIR, "text")): TextTemplates {
  const hb = createEngine();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".hbs"))
    .sort();
  const hash = createHash("sha256");
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  for (const f of files) {
    const source = readFileSync(path.join(dir, f), "utf8");
    hash.update(f).update("\0").update(source).update("\0");
    compiled.set(f.replace(/\.hbs$/, ""), hb.compile(source, { strict: true, noEscape: true }));
  }
  // The card layout shapes an output as much as the text templates do: one version covers both.
  hash.update(`card-layout:${CARD_LAYOUT_VERSION}`);
  const version = hash.digest("hex").slice(0, 12);

  return {
    version,
    render(variant, view) {
      const template =
        compiled.get(`${variant}.${languageOf(view.quote.locale)}`) ?? compiled.get(`${variant}.en`);
      if (!template) throw new TextTemplateError("template", `no template for ${variant}`);
      let text: string;
      try {
        text = template(view);
      } catch (err) {
        throw new TextTemplateError("template", `template ${variant} failed: ${(err as Error).message}`);
      }
      const tidy = text
        .replace(/[ \t]+\n/g, "\n")
        .replace(/\n{3,}/g, "\n\n")
        .trim();
      const problem = limitProblem(variant, tidy);
      if (problem) throw new TextTemplateError("variant_too_long", problem);
      return tidy;
    },
  };
}
