import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { cli } from "../support/cli.js";
import { buildApp, type Harness, harness, makeOutput, makeUser, signIn } from "./fixtures.js";

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await harness("http-coverage");
  app = buildApp(h.deps);
  await app.ready();
  // English material for corruption only; nothing in Arabic; nothing for the other three narratives.
  await saveAll(h.store, {
    campaigns: [aCampaign({ id: "camp-a", name: "Camp A", formats: ["square", "story"] })],
    speakers: [aSpeaker("s-1")],
    quotes: [aQuote("q-1", "s-1", { narrative: "corruption" })],
  });
  await makeOutput(h, {
    narrative: "corruption",
    status: "approved",
    decisions: [{ decision: "approved", by: "rev", at: "2026-01-01T00:00:00Z" }],
  });
});
afterAll(() => h.close(app));

describe("narrative coverage", () => {
  it("the CLI report counts by narrative × locale × format and marks the empty cells", async () => {
    const r = await cli(h.prefix, ["report", "coverage", "camp-a", "--json"]);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.out) as {
      cells: {
        narrative: string;
        locale: string;
        format: string;
        vettedQuotes: number;
        approved: number;
        empty: boolean;
      }[];
    };
    expect(c.cells).toHaveLength(4 * 2 * 2);
    expect(
      c.cells.find((x) => x.narrative === "corruption" && x.locale === "en" && x.format === "square"),
    ).toMatchObject({ vettedQuotes: 1, approved: 1, empty: false });
    expect(c.cells.filter((x) => !x.empty).map((x) => `${x.narrative}/${x.locale}/${x.format}`)).toEqual([
      "corruption/en/square",
      "corruption/en/story",
    ]);
    const table = await cli(h.prefix, ["report", "coverage", "camp-a"]);
    // A column per campaign locale; a row per narrative × format.
    expect(table.out.split("\n")[0]).toMatch(/^NARRATIVE\s+FORMAT\s+en\s+ar$/);
    expect(table.out).toMatch(/^corruption\s+square\s+1\/1\/0\s+EMPTY$/m);
    expect(table.out.split(/\s+/).filter((w) => w === "EMPTY")).toHaveLength(14);
  });

  it("the review page shows the panel with the empty cells marked", async () => {
    const reviewer = await makeUser(h, "rev-cov", ["reviewer"]);
    const { cookie } = await signIn(app, reviewer.token);
    const page = await app.inject({ url: "/review?campaign=camp-a", cookies: { tm_session: cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Narrative coverage: Camp A");
    const row = /<tr><th scope="row">Corruption and un-Islamic conduct<\/th>(.*?)<\/tr>/.exec(page.body)![1]!;
    expect(row).toContain("1 vetted · 1 approved · 0 exported");
    expect(row).toContain('class="empty-cell">none yet');
    expect(page.body.match(/class="empty-cell"/g)).toHaveLength(7);
  });
});
