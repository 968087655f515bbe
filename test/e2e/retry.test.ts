import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { move } from "../../src/domain/output.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { bin, e2eWorld } from "./bin.js";

let w: Awaited<ReturnType<typeof e2eWorld>>;
let staffEnv: Record<string, string>;
const failure = {
  reason: "error" as const,
  message: "ENOSPC: no space left on device",
  at: "2026-11-20T10:00:00.000Z",
  attempts: 5,
};

async function failedOutput(quoteId: string) {
  const o = await anOutput(w.store, w.env.DATA_DIR!, aQuote(quoteId, "s1"), { status: "rendering" });
  const v = (await w.store.outputs.get(o.id))!;
  await w.store.outputs.commit({
    writes: [w.store.outputs.write(move(o, "failed", failure.at, { failure }), v)],
  });
  return o.id;
}

beforeAll(async () => {
  w = await e2eWorld("retry");
  await saveAll(w.store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1")], quotes: [] });
  staffEnv = { ...(await w.account("staff1", ["staff"])), ALLOW_VOLATILE_REDIS: "1" };
});
afterAll(() => w.dispose());

describe("testimony retry (the built binary)", () => {
  it("retries one failed output: exit 0, says what it had failed with; the output is queued", async () => {
    const id = await failedOutput("q1");
    const r = await bin(["retry", id, "--reason", "disk freed"], { env: staffEnv });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${id}: failed → queued (had failed: error: ENOSPC: no space left on device)\n`);
    expect((await w.store.outputs.get(id))!.value.status).toBe("queued");
    const again = await bin(["retry", id], { env: staffEnv });
    expect(again.code).toBe(1);
    expect(again.err).toBe(`error: output ${id} is queued; only a failed output can be retried\n`);
  });

  it("retries every failed output of a campaign with --campaign; bad usage exits 2", async () => {
    const ids = [await failedOutput("q2"), await failedOutput("q3")];
    const r = await bin(["retry", "--campaign", "why-they-left"], { env: staffEnv });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("2 retried, 0 refused");
    for (const id of ids) expect((await w.store.outputs.get(id))!.value.status).toBe("queued");
    const both = await bin(["retry", ids[0]!, "--campaign", "why-they-left"], { env: staffEnv });
    expect(both.code).toBe(2);
    expect(both.err).toContain("name one failed output, or --campaign C");
  });
});
