import { afterAll, describe, expect, it } from "vitest";
import { actingAs, cli } from "./support/cli.js";
import { testStore } from "./support/redis.js";

const t = testStore("cli-sample");
afterAll(() => t.cleanup());

describe("sample data through the CLI", () => {
  it("imports the sample speakers, quotes and campaign and lists them as JSON", async () => {
    const staff1 = await actingAs(t.store, "staff1");
    expect((await cli(t.prefix, ["speakers", "import", "assets/sample/speakers.csv"], staff1)).code).toBe(0);
    const imported = await cli(t.prefix, ["quotes", "import", "assets/sample/quotes.csv"], staff1);
    expect(imported).toMatchObject({
      code: 0,
      out: "assets/sample/quotes.csv: 10 created, 0 updated, 0 unchanged\n",
    });

    const listed = await cli(t.prefix, ["quotes", "list", "--all", "--json"]);
    expect(listed.code).toBe(0);
    const quotes = JSON.parse(listed.out) as {
      id: string;
      text: string;
      locale: string;
      vetting: { state: string };
    }[];
    expect(quotes.map((q) => q.id)).toContain("not-protecting-en");
    expect(quotes.find((q) => q.id === "not-protecting-en")?.text).toBe(
      "The Islamic State is not protecting Muslims. It is killing them.",
    );
    expect(quotes.filter((q) => q.locale === "ar")).toHaveLength(5);
    expect(new Set(quotes.map((q) => q.vetting.state))).toEqual(new Set(["pending"]));

    const again = await cli(t.prefix, ["quotes", "import", "assets/sample/quotes.csv"], staff1);
    expect(again.out).toBe("assets/sample/quotes.csv: 0 created, 0 updated, 10 unchanged\n");

    expect((await cli(t.prefix, ["campaigns", "create", "assets/sample/campaign.json"], staff1)).code).toBe(
      0,
    );
    const shown = JSON.parse((await cli(t.prefix, ["campaigns", "show", "why-they-left"])).out);
    expect(shown).toMatchObject({ locales: ["en", "ar"], schedule: { timeZone: "Asia/Baghdad" } });
  });

  it("answers a usage error with exit code 2", async () => {
    const r = await cli(t.prefix, ["quotes", "list", "--state", "bogus"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--state must be one of pending, vetted, rejected, retired");
  });
});
