import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import { TEMPLATES_DIR } from "../../paths.js";
import { DEFAULT_LANGUAGE, loadTranslator, type Translator } from "../i18n.js";
import { navFor, rolesOf } from "../workspace/nav.js";

export type Pages = {
  /** `data.lang` picks the catalogue (default English); templates get `pageLang`, `pageDir`, the switcher, the nav. */
  render(name: string, data: Record<string, unknown>): string;
  i18n: Translator;
};

/** The catalogue sections workspace.js says its messages with. */
export const SCRIPT_WORDS = ["wsjs", "format", "error", "failure"] as const;

/**
 * src/templates/pages: `layout.hbs` and `_name.hbs` are partials, the rest are pages. HTML escaping
 * stays on (`{{ }}` everywhere); pages wrap themselves in the layout with a partial block, so no
 * triple-stash is needed anywhere. Prototype access stays at Handlebars' safe default.
 */
export function loadPages(dir = path.join(TEMPLATES_DIR, "pages"), i18n = loadTranslator()): Pages {
  const hb = Handlebars.create();
  // {{t "key"}}, {{t "key" count=n name=x}}: the page's language is the root context's `pageLang`
  // (partials see the same root). The result is a plain string, so Handlebars escapes it.
  hb.registerHelper("t", (key: unknown, options: Handlebars.HelperOptions) => {
    const root = (options.data?.root ?? {}) as { pageLang?: string; lang?: string };
    return i18n.t(
      i18n.pick(root.pageLang ?? root.lang),
      String(key),
      options.hash as Record<string, unknown>,
    );
  });
  // {{tk "state.quote" state}}: a word the code holds as data (a state, a format, a policy) said through
  // the catalogue key `<prefix>.<value>`; a value the catalogue does not know is shown as it is.
  hb.registerHelper("tk", (prefix: unknown, value: unknown, options: Handlebars.HelperOptions) => {
    const root = (options.data?.root ?? {}) as { pageLang?: string; lang?: string };
    const key = `${String(prefix)}.${String(value)}`;
    const said = i18n.t(i18n.pick(root.pageLang ?? root.lang), key);
    return said === key ? String(value ?? "") : said;
  });
  const pages = new Map<string, HandlebarsTemplateDelegate>();
  const files = [
    ...readdirSync(dir).filter((f) => f.endsWith(".hbs")),
    // The staff workspace's pages live in their own folder, named `workspace/<page>`.
    ...readdirSync(path.join(dir, "workspace"))
      .filter((f) => f.endsWith(".hbs"))
      .map((f) => `workspace/${f}`),
  ];
  for (const file of files) {
    const source = readFileSync(path.join(dir, file), "utf8");
    const name = file.replace(/\.hbs$/, "");
    if (name === "layout") hb.registerPartial("layout", source);
    else if (path.basename(name).startsWith("_")) {
      // A partial, and a fragment htmx can ask for on its own.
      hb.registerPartial(path.basename(name).slice(1), source);
      pages.set(name, hb.compile(source));
    } else pages.set(name, hb.compile(source));
  }
  return {
    i18n,
    render(name, data) {
      const page = pages.get(name);
      if (!page) throw new Error(`no page template ${name}`);
      const user = data.user as { roles?: string | string[] } | undefined;
      const lang = i18n.pick(data.lang as string | undefined);
      return page({
        nav: user ? navFor(user.roles, data.path as string | undefined) : [],
        ...data,
        roleKeys: rolesOf(user?.roles).map((r) => `role.${r}`),
        pageLang: lang,
        pageDir: i18n.dir(lang),
        // The default language may show the services' own (English) sentences beside their codes.
        defaultLang: lang === DEFAULT_LANGUAGE,
        // The switcher offers the other languages, each named in itself.
        otherLanguages: i18n.languages.filter((l) => l.code !== lang),
        // The workspace script's words (workspace.js), read from a data- attribute: no inline script.
        // In the default language the script may show the API's own (English, more detailed) messages.
        ...(data.workspace
          ? {
              scriptWords: JSON.stringify(i18n.strings(lang, SCRIPT_WORDS)),
              scriptServerWords: lang === DEFAULT_LANGUAGE,
            }
          : {}),
      });
    },
  };
}

/** CSS and the page script, read once; served by route so the CSP can forbid inline code. */
export function loadAssets(
  dir = path.join(TEMPLATES_DIR, "pages"),
): Map<string, { body: string; type: string }> {
  return new Map([
    [
      "review.css",
      { body: readFileSync(path.join(dir, "review.css"), "utf8"), type: "text/css; charset=utf-8" },
    ],
    [
      "review.js",
      { body: readFileSync(path.join(dir, "review.js"), "utf8"), type: "text/javascript; charset=utf-8" },
    ],
  ]);
}
