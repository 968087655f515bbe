import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { queueCampaign } from "../../src/app/queue.service.js";
import { renderOutput } from "../../src/app/render.service.js";
import { addRedaction } from "../../src/app/safety.service.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";

const templates = loadTextTemplates();
const log = pino({ level: "silent" });

describe("render reads what it needs in its 'rendering' commit (real Redis and sharp)", () => {
  it("applies global and the speaker's stored redaction terms, also ones added after this process rendered, and not another speaker's", async () => {
    const t = testStore("render-reads");
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-render-reads-"));
    const queues = createQueues(t.redis, t.store.keys);
    try {
      await saveAll(t.store, {
        campaigns: [aCampaign()],
        speakers: [aSpeaker("s1"), aSpeaker("s2")],
        quotes: [
          aQuote("q1", "s1", { text: "The cell met in Alpha Street every week." }),
          aQuote("q2", "s1", { text: "We left Bravo Town at night." }),
          aQuote("q3", "s2", { text: "We left Bravo Town too, and Charlie Hill." }),
          aQuote("q4", "s2", { text: "Nobody asked about Delta Bay." }),
        ],
      });
      // Another speaker's term must not block s1; s2's own term blocks s2 only.
      await addRedaction(t.store, "Alpha Street", "staff1", "s2");
      await addRedaction(t.store, "Echo Field", "staff1");
      const { outputIds } = await queueCampaign(t.store, queues, {
        campaignId: "why-they-left",
        actor: "staff1",
        templateVersion: templates.version,
      });
      const [o1, o2, o3, o4] = outputIds as [string, string, string, string];
      const deps = { store: t.store, dataDir, templates, log };
      const render = (id: string) =>
        renderOutput(deps, id, { number: 1, final: true }).catch((e: Error) => e);
      const status = async (id: string) => (await t.store.outputs.get(id))!.value;

      expect(await render(o1)).toBe("rendered");
      expect((await status(o1)).status).toBe("in_review");

      // Added after this process has read (and kept) the terms it met: still applied.
      await addRedaction(t.store, "Bravo Town", "staff1", "s1");
      await addRedaction(t.store, "Charlie Hill", "staff1");
      expect(await render(o2)).toBeInstanceOf(Error);
      expect((await status(o2)).failure?.reason).toBe("redaction");
      expect(await render(o3)).toBeInstanceOf(Error);
      expect((await status(o3)).failure).toMatchObject({
        reason: "redaction",
        message: expect.stringMatching(/r-/),
      });
      expect(await render(o4)).toBe("rendered");

      const audit = (await t.store.audit.list({ entity: o1 })).map((a) => a.action);
      expect(audit).toEqual(["output.queued", "output.rendering", "output.rendered"]);
    } finally {
      await closeQueues(queues);
      await rm(dataDir, { recursive: true, force: true });
      await t.cleanup();
    }
  });
});
