import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCampaign } from "../../src/app/campaigns.service.js";
import { coverage, coverageTable } from "../../src/app/coverage.service.js";
import { importQuotes, importSpeakers } from "../../src/app/import.service.js";
import { queueCampaign } from "../../src/app/queue.service.js";
import { changeVetting } from "../../src/app/quotes.service.js";
import { SUPPORTED_LANGUAGES } from "../../src/domain/catalogue/index.js";
import { coveragePanel } from "../../src/http/review/view-model.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { testStore } from "../support/redis.js";

/**
 * Queueing and coverage per locale, on the sample data in six locales (five English quotes and their
 * translations into ar, fr, de, ru, tr), every quote vetted.
 */
const SAMPLE = path.resolve("assets/sample");
const t = testStore("locale-queue");
const queues = createQueues(t.redis, t.store.keys);

async function sampleCampaign(id: string, locales: string[]) {
  const raw = JSON.parse(await readFile(path.join(SAMPLE, "campaign.json"), "utf8"));
  raw.brand.logo = path.join(SAMPLE, raw.brand.logo);
  return (await createCampaign(t.store, { ...raw, id, locales }, "staff1")).campaign;
}

beforeAll(async () => {
  await importSpeakers(t.store, await readFile(path.join(SAMPLE, "speakers.csv")), "speakers.csv", "staff1");
  for (const file of ["quotes.csv", "quotes-translations.csv"]) {
    await importQuotes(t.store, await readFile(path.join(SAMPLE, file)), file, "staff1");
  }
  for (const q of await t.store.quotes.list()) await changeVetting(t.store, q.id, "vet", "staff2");
  await sampleCampaign("russian-only", ["ru"]);
  await sampleCampaign("six-locales", [...SUPPORTED_LANGUAGES]);
});
afterAll(async () => {
  await closeQueues(queues);
  await t.cleanup();
});

describe("a campaign queues only quotes in its locales", () => {
  it("a campaign in ru queues the Russian translations and nothing in the five other languages", async () => {
    const r = await queueCampaign(t.store, queues, {
      campaignId: "russian-only",
      actor: "staff1",
      templateVersion: "test",
    });
    const outputs = (await t.store.outputs.getMany(r.outputIds)).map((o) => o.value);
    expect(outputs).toHaveLength(5 * 4);
    expect(new Set(outputs.map((o) => o.locale))).toEqual(new Set(["ru"]));
    expect([...new Set(outputs.map((o) => o.quoteId))].sort()).toEqual([
      "horrified-ru",
      "hyped-us-up-ru",
      "jihad-upside-down-ru",
      "not-holy-war-ru",
      "not-protecting-ru",
    ]);
    expect(outputs.every((o) => o.direction === "ltr")).toBe(true);
  });
});

describe("coverage has a column per campaign locale", () => {
  it("the report counts each of the six locales on its own", async () => {
    const c = await coverage(t.store, "six-locales");
    expect(c.locales).toEqual(["en", "ar", "fr", "de", "ru", "tr"]);
    for (const locale of c.locales) {
      const brutality = c.cells.find(
        (x) => x.narrative === "brutality" && x.locale === locale && x.format === "square",
      );
      // not-protecting and horrified, in every language.
      expect(brutality?.vettedQuotes, locale).toBe(2);
    }
    const { headers, rows } = coverageTable(c);
    expect(headers).toEqual(["NARRATIVE", "FORMAT", "en", "ar", "fr", "de", "ru", "tr"]);
    expect(rows.find((r) => r[0] === "brutality" && r[1] === "story")).toEqual([
      "brutality",
      "story",
      ...Array(6).fill("2/0/0"),
    ]);
  });

  it("the review page's panel has the same six columns; a locale with no material reads as empty", async () => {
    const six = coveragePanel(await coverage(t.store, "six-locales"), "Six");
    expect(six.locales).toEqual(["en", "ar", "fr", "de", "ru", "tr"]);
    for (const row of six.rows) expect(row.cells).toHaveLength(6);
    const russian = coveragePanel(await coverage(t.store, "russian-only"), "Russian");
    expect(russian.locales).toEqual(["ru"]);
    expect(russian.rows.flatMap((r) => r.cells).every((cell) => !cell.empty)).toBe(true);
  });
});
