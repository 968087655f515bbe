/**
 * Read latency against the number of stored outputs: GET /api/outputs?limit=50 (and a filtered
 * page further in, from a cursor) and the review page, served by one `testimony serve` process,
 * at each store size. Outputs are written straight through the store (its one commit script, so
 * indexes and counters are what real commits leave), not rendered: only reads are measured.
 */
import path from "node:path";
import { addUser } from "../../src/app/users.service.js";
import type { Output } from "../../src/domain/output.js";
import { createSessionStore } from "../../src/store/session.store.js";
import { saveAll } from "../../test/support/builders.js";
import { healthy } from "./api.js";
import { benchCampaign, benchQuotes, benchSpeakers, STAFF } from "./fixtures.js";
import { freePort, type NodeChild, spawnCli, tail } from "./processes.js";
import { f0, f1, f2, now, progress, until } from "./stats.js";
import { openWorld, type World } from "./world.js";

const CAMPAIGNS = 10;
const QUOTES = 500;
/** Requests before each figure: the first size also warms the server (JIT, connections). */
const WARM_UP = 60;
const FORMATS = ["square", "portrait", "story", "landscape"] as const;
/** Of every 20 outputs: 2 in review, 1 rejected, 8 approved, 9 exported. */
const STATUS_CYCLE = [
  "in_review",
  "approved",
  "exported",
  "approved",
  "exported",
  "rejected",
  "exported",
  "approved",
  "exported",
  "approved",
  "in_review",
  "exported",
  "approved",
  "exported",
  "approved",
  "exported",
  "approved",
  "exported",
  "approved",
  "exported",
] as const;

export type ReadTarget = { name: string; p50: number; p95: number; p99: number; perSec: number };
export type ReadSize = { outputs: number; inReview: number; targets: ReadTarget[]; writeSeconds: number };
export type ReadsResult = { sizes: ReadSize[]; requests: number; concurrency: number };

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

function anOutput(i: number, quotes: ReturnType<typeof benchQuotes>): Output {
  const q = quotes[i % QUOTES]!;
  const format = FORMATS[Math.floor(i / QUOTES) % FORMATS.length]!;
  const status = STATUS_CYCLE[i % STATUS_CYCLE.length]!;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  const decided = status !== "in_review";
  return {
    id: `rd-${String(i).padStart(7, "0")}`,
    campaignId: `reads-${i % CAMPAIGNS}`,
    quoteId: q.id,
    speakerId: q.speakerId,
    locale: q.locale,
    direction: q.locale === "ar" ? "rtl" : "ltr",
    narrative: q.narrative,
    format,
    encoding: "png",
    templateVersion: "t1",
    brandVersion: "b1",
    status,
    queuedBy: STAFF,
    queuedAt: at,
    updatedAt: at,
    attempts: 1,
    files: { card: `outputs/x/rd-${i}.png`, text: {} },
    sha256: {},
    variants: { post: `${q.text} #WhyTheyLeft`, caption: q.text, alt_text: `A quote card: ${q.text}` },
    published: { attribution: "a former fighter", citation: "ICSR, 2015", quoteText: q.text },
    decisions: decided
      ? [{ decision: status === "rejected" ? "rejected" : "approved", by: "bench-reviewer", at }]
      : [],
    missedDrops: [],
    ...(status === "exported" ? { exportedAt: at, bundleId: "b-bench" } : {}),
  };
}

async function storeOutputs(world: World, from: number, to: number, quotes: ReturnType<typeof benchQuotes>) {
  const BATCH = 500;
  for (let i = from; i < to; i += BATCH) {
    const writes = [];
    for (let j = i; j < Math.min(to, i + BATCH); j++)
      writes.push(world.store.outputs.write(anOutput(j, quotes)));
    await world.store.outputs.commit({ writes });
  }
}

async function measure(
  name: string,
  url: string,
  headers: Record<string, string>,
  requests: number,
  concurrency: number,
): Promise<ReadTarget> {
  const hit = async () => {
    const t0 = now();
    const res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(60_000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}: ${body.slice(0, 300)}`);
    return now() - t0;
  };
  for (let i = 0; i < WARM_UP; i++) await hit();
  const times: number[] = [];
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        times.push(await hit());
      }
    }),
  );
  const seconds = (now() - t0) / 1000;
  times.sort((a, b) => a - b);
  return {
    name,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    perSec: times.length / seconds,
  };
}

/** Read latency at each store size (sizes ascending; outputs are added between sizes). */
export async function runReads(
  run: { runId: string; runRoot: string },
  opts: { sizes: number[]; requests: number; concurrency: number },
): Promise<ReadsResult> {
  const world = await openWorld(run.runId, run.runRoot, "reads");
  let server: NodeChild | undefined;
  try {
    const speakers = benchSpeakers(50);
    const quotes = benchQuotes(QUOTES, speakers.length);
    await saveAll(world.store, { speakers, quotes });
    await addUser(world.store, STAFF, ["staff"], "bench");
    const reviewer = await addUser(world.store, "bench-reader", ["reviewer"], "bench");
    for (let c = 0; c < CAMPAIGNS; c++) await benchCampaign(world.store, `reads-${c}`);
    const session = await createSessionStore(world.store).create("bench-reader");
    const port = await freePort();
    server = spawnCli(["serve"], world.env({ PORT: String(port) }), path.join(world.root, "serve.log"));
    const base = `http://127.0.0.1:${port}`;
    await until("testimony serve to answer /health", () => healthy(base), 90_000, 200).catch(async (e) => {
      throw new Error(`${(e as Error).message}\n${await tail(server!.logFile)}`);
    });
    const api = { authorization: `Bearer ${reviewer.token}` };
    const page = { cookie: `tm_session=${session.id}` };
    const sizes: ReadSize[] = [];
    let stored = 0;
    for (const size of [...opts.sizes].sort((a, b) => a - b)) {
      const t0 = now();
      await storeOutputs(world, stored, size, quotes);
      const writeSeconds = (now() - t0) / 1000;
      stored = size;
      progress(`reads: ${f0(size)} outputs stored (${f1(writeSeconds)} s); measuring`);
      // A cursor half-way through campaign reads-3's approved outputs: a page from the middle.
      const mid = anOutput(Math.floor(size / 2) - (Math.floor(size / 2) % CAMPAIGNS) + 3, quotes);
      const cursor = Buffer.from(`${mid.queuedAt}\n${mid.id}`).toString("base64url");
      const targets = [
        await measure(
          "GET /api/outputs?limit=50",
          `${base}/api/outputs?limit=50`,
          api,
          opts.requests,
          opts.concurrency,
        ),
        await measure(
          "GET /api/outputs?campaign&status&limit=50&cursor (mid-list)",
          `${base}/api/outputs?campaign=reads-3&status=approved&limit=50&cursor=${cursor}`,
          api,
          opts.requests,
          opts.concurrency,
        ),
        await measure("GET /review", `${base}/review`, page, opts.requests, opts.concurrency),
        await measure(
          "GET /review?campaign&locale",
          `${base}/review?campaign=reads-3&locale=ar`,
          page,
          opts.requests,
          opts.concurrency,
        ),
      ];
      const inReview = await world.store.outputs.count(["status:in_review"]);
      sizes.push({ outputs: size, inReview, targets, writeSeconds });
      for (const t of targets)
        progress(`reads ${f0(size)}: ${t.name}: p50 ${f1(t.p50)} ms, p95 ${f1(t.p95)} ms, ${f1(t.perSec)}/s`);
    }
    return { sizes, requests: opts.requests, concurrency: opts.concurrency };
  } finally {
    await server?.stop();
    await world.dispose();
  }
}

/** The read-latency section of bench.md, and the p95 ratio between the largest and smallest size. */
export function readsSection(r: ReadsResult): string[] {
  const first = r.sizes[0]!;
  const last = r.sizes.at(-1)!;
  const lines = [
    "## Reads against store size",
    "",
    `Outputs written straight through the store (its commit script: sorted indexes and counters as real commits leave them) over ${CAMPAIGNS} campaigns, ${QUOTES} quotes × 4 formats; 10 % in review. One \`testimony serve\`; ${r.requests} requests per figure after ${WARM_UP} warm-up, ${r.concurrency} in flight. The API as a reviewer (bearer token), the review page with a session cookie (120 cards, coverage panel of every campaign). Milliseconds.`,
    "",
    `| outputs stored | in review | request | p50 ms | p95 ms | p99 ms | requests/s |`,
    "|---:|---:|---|---:|---:|---:|---:|",
    ...r.sizes.flatMap((s) =>
      s.targets.map(
        (t) =>
          `| ${f0(s.outputs)} | ${f0(s.inReview)} | ${t.name} | ${f1(t.p50)} | ${f1(t.p95)} | ${f1(t.p99)} | ${f1(t.perSec)} |`,
      ),
    ),
    "",
    `p95 at ${f0(last.outputs)} ÷ p95 at ${f0(first.outputs)} stored outputs (target ≤ 1.5): ` +
      first.targets.map((t, i) => `${t.name} ${f2(last.targets[i]!.p95 / t.p95)}`).join("; "),
    "",
  ];
  return lines;
}
