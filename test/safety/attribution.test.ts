import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { queueCampaign } from "../../src/app/queue.service.js";
import { RenderFailure, renderOutput } from "../../src/app/render.service.js";
import { AttributionRefused, attributionFor } from "../../src/domain/publication.js";
import { speakerSchema } from "../../src/domain/speaker.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";

const NOW = new Date("2026-11-22T12:00:00Z");
const consent = (over = {}) => ({
  state: "granted" as const,
  recordedBy: "staff1",
  recordedAt: "2026-01-01T00:00:00Z",
  scope: { locales: ["en"], channels: [] },
  ...over,
});
const named = (c?: ReturnType<typeof consent>) =>
  aSpeaker("n1", { attribution: "named", publicName: "Real Public Name", consent: c });

describe("named attribution needs consent, in date and in scope", () => {
  it("is refused at import without consent", () => {
    const r = speakerSchema.safeParse({ id: "n1", pseudonym: "P", attribution: "named", publicName: "X" });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toContain("consent");
  });
  it("publishes the name while consent holds", () => {
    expect(attributionFor(named(consent()), "en", NOW)).toBe("Real Public Name");
  });
  it("refuses without consent, with expired consent, and outside its scope", () => {
    const cases: [ReturnType<typeof named>, string, RegExp][] = [
      [named(undefined), "en", /no granted consent/],
      [named(consent({ expiresAt: "2026-06-01T00:00:00Z" })), "en", /expired on 2026-06-01/],
      [named(consent()), "ar", /does not cover locale ar/],
    ];
    for (const [speaker, locale, why] of cases) {
      expect(() => attributionFor(speaker, locale, NOW)).toThrow(AttributionRefused);
      expect(() => attributionFor(speaker, locale, NOW)).toThrow(why);
    }
    expect(() =>
      attributionFor(named(consent({ scope: { locales: [], channels: ["x"] } })), "en", NOW, "instagram"),
    ).toThrow(/channel instagram/);
  });
  it("anonymous speakers are 'a former fighter' in the quote's language", () => {
    expect(attributionFor(aSpeaker("a", { attribution: "anonymous" }), "ar-IQ", NOW)).toBe("مقاتل سابق");
    expect(attributionFor(aSpeaker("a", { attribution: "anonymous" }), "en-GB", NOW)).toBe(
      "A former fighter",
    );
  });
});

describe("a render for a named speaker outside consent fails with the reason", () => {
  const t = testStore("attribution");
  const queues = createQueues(t.redis, t.store.keys);
  afterAll(async () => {
    await closeQueues(queues);
    await t.cleanup();
  });
  it("records reason attribution on the output", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-attr-"));
    const templates = loadTextTemplates();
    await saveAll(t.store, {
      campaigns: [aCampaign()],
      speakers: [named(consent({ expiresAt: "2026-06-01T00:00:00Z" }))],
      quotes: [aQuote("q1", "n1")],
    });
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
    });
    const deps = { store: t.store, dataDir, templates, log: pino({ level: "silent" }) };
    await expect(renderOutput(deps, r.outputIds[0]!, { number: 1, final: false })).rejects.toBeInstanceOf(
      RenderFailure,
    );
    const o = (await t.store.outputs.get(r.outputIds[0]!))!.value;
    expect(o.status).toBe("failed");
    expect(o.failure).toMatchObject({
      reason: "attribution",
      message: "consent to be named expired on 2026-06-01T00:00:00Z",
    });
  });
});
