import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

const t = testStore("drops");
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await t.cleanup();
});

/** `testimony schedule --with-export-worker` in its own process, as an operator would run it twice. */
function scheduler(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join("src", "cli", "main.ts"), "schedule", "--with-export-worker"],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe("two scheduler processes with export workers on one Redis", () => {
  it("write exactly one bundle per slot, and no output lands in two bundles", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-drops-"));
    const exportDir = path.join(dataDir, "exports");
    const now = new Date().toISOString();
    await saveAll(t.store, {
      campaigns: [
        aCampaign({
          schedule: { cron: "*/2 * * * * *", timeZone: "Europe/London" },
          exposure: { maxPerSpeakerPerDrop: 1 },
          createdAt: now,
          updatedAt: now,
        }),
      ],
      speakers: [aSpeaker("s1")],
    });
    for (let i = 0; i < 12; i++) {
      const q = aQuote(`q${i}`, "s1");
      await saveAll(t.store, { quotes: [q] });
      await anOutput(t.store, dataDir, q, { approvedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() });
    }
    const env = {
      REDIS_URL,
      KEY_PREFIX: t.prefix,
      DATA_DIR: dataDir,
      EXPORT_DIR: exportDir,
      LOG_LEVEL: "warn",
      // The test Redis keeps nothing on disk; the roles refuse such a Redis unless told it is meant.
      ALLOW_VOLATILE_REDIS: "1",
    };
    const procs = [scheduler(env), scheduler(env)];
    let stopped = false;
    const died = Promise.race(procs.map((p) => p.exited.then((code) => ({ p, code })))).then(
      ({ p, code }) => {
        if (!stopped) throw new Error(`a scheduler exited early (code ${code}):\n${p.stderr()}`);
      },
    );
    // Three complete drops (slots 2 s apart; both processes start in a few seconds, longer on busy
    // cores), then stop both.
    const threeDrops = until(
      "three complete bundles",
      async () => (await t.store.bundles.list()).filter((b) => b.status === "complete").length >= 3,
      60_000,
      100,
    );
    threeDrops.catch(() => undefined); // when a child died first, its error is the one to report
    await Promise.race([threeDrops, died]);
    stopped = true;
    await Promise.all(
      procs.map((p) => {
        p.child.kill("SIGTERM");
        return p.exited;
      }),
    );

    const bundles = (await t.store.bundles.list()).sort((a, b) => a.slot.localeCompare(b.slot));
    expect(bundles.length).toBeGreaterThanOrEqual(3);
    expect(bundles.every((b) => b.status === "complete" && b.outputIds.length === 1)).toBe(true);
    const slots = bundles.map((b) => Date.parse(b.slot));
    expect(new Set(slots).size).toBe(slots.length);
    for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(2000);
    const ids = bundles.flatMap((b) => b.outputIds);
    expect(new Set(ids).size).toBe(ids.length);
    const folders = (await readdir(path.join(exportDir, "why-they-left"))).filter((n) => !n.startsWith("."));
    expect(folders).toHaveLength(bundles.length);
  }, 90_000);
});
