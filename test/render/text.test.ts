import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type PublicationView, publicationView } from "../../src/domain/publication.js";
import { platformLength } from "../../src/domain/text-limits.js";
import { loadTextTemplates, TextTemplateError } from "../../src/render/text/text.render.js";
import { aCampaign, aQuote, aSpeaker } from "../support/builders.js";

const NOW = new Date("2026-11-22T00:00:00Z");
const templates = loadTextTemplates();
const view = (over: Parameters<typeof aQuote>[2] = {}, speaker = aSpeaker("s1"), campaign = aCampaign()) =>
  publicationView(aQuote("q1", "s1", over), speaker, campaign, NOW);

describe("text variants", () => {
  it("renders the English post, caption and alt text from the publication view", () => {
    const v = view({ text: "This is not a holy war" });
    expect(templates.render("post", v)).toBe(
      "“\u2068This is not a holy war\u2069” — \u2068Pseudonym s1\u2069\n\n#WhyTheyLeft",
    );
    const caption = templates.render("caption", v);
    expect(caption).toContain("— \u2068Pseudonym s1\u2069");
    expect(caption).toContain("Source: ICSR, “Victims, Perpetrators, Assets”, 2015-09-21");
    expect(caption).toContain("Corruption and un-Islamic conduct.");
    expect(templates.render("alt_text", v)).toBe(
      "Quote card for the campaign \u2068Why They Left\u2069. In large type: “\u2068This is not a holy war\u2069” Below it, the attribution: \u2068Pseudonym s1\u2069. Footer hashtags: #WhyTheyLeft.",
    );
  });

  it("uses Arabic wording for Arabic quotes and isolates Latin hashtags", () => {
    const v = view(
      { text: "هذه ليست حربًا مقدسة", locale: "ar" },
      aSpeaker("s1", { attribution: "anonymous" }),
    );
    const post = templates.render("post", v);
    expect(post).toBe(
      "«\u2068هذه ليست حربًا مقدسة\u2069» — \u2068مقاتل سابق\u2069\n\n\u2068#WhyTheyLeft\u2069",
    );
    expect(templates.render("alt_text", v)).toMatch(/^بطاقة اقتباس/);
  });

  it("never passes private speaker fields to a template", () => {
    const speaker = aSpeaker("s1", {
      private: { realName: "REALNAME-MARKER", contact: "CONTACT-MARKER", notes: "NOTES-MARKER" },
    });
    const v = view({}, speaker);
    expect(JSON.stringify(v)).not.toMatch(/MARKER/);
    for (const variant of ["post", "caption", "alt_text"] as const)
      expect(templates.render(variant, v)).not.toMatch(/MARKER/);
  });

  it("leaves markup characters alone in plain text (no HTML escaping)", () => {
    const v = view({ text: `a & b <script>"x"</script>` });
    expect(templates.render("post", v)).toContain(`“\u2068a & b <script>"x"</script>\u2069”`);
  });

  it("fails a post over 280 characters, counting a URL as 23", () => {
    expect(platformLength(`${"x".repeat(10)} https://example.org/a/very/long/path/that/is/long`)).toBe(
      11 + 23,
    );
    const long = view({ text: "w".repeat(270) });
    expect(() => templates.render("post", long)).toThrow(TextTemplateError);
    expect(() => templates.render("post", long)).toThrow(/post is \d+ characters, over its limit of 280/);
  });

  it("fails a caption with more than 30 hashtags", () => {
    const tags = Array.from({ length: 31 }, (_, i) => `#Tag${i}`);
    const v: PublicationView = { ...view(), campaign: { name: "C", hashtags: tags, links: [] } };
    expect(() => templates.render("caption", v)).toThrow(/caption has 31 hashtags, over its limit of 30/);
  });

  it("strict mode: a misspelt field is an error, and the version follows the template files", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tm-tpl-"));
    await writeFile(path.join(dir, "post.en.hbs"), "{{quote.txet}}");
    const broken = loadTextTemplates(dir);
    expect(() => broken.render("post", view())).toThrow(/template post failed/);
    await writeFile(path.join(dir, "post.en.hbs"), "{{quote.text}}");
    expect(loadTextTemplates(dir).version).not.toBe(broken.version);
  });
});
