/**
 * The staff workspace's two latency promises (issue 14), over HTTP on a listening socket:
 * - the quotes page at 10,000 quotes: first page, a page deep in the list (from its cursor),
 *   combined filters, one speaker, a text search, and GET /api/quotes; p95 <= 150 ms. Timed in
 *   turns, one request of each per round. Peer in the same rounds: what the list did before the
 *   sorted quote indexes (read every matching quote, sort, slice), in process.
 * - the live preview, POST /api/campaigns/preview, p50/p95 per format; p95 <= 100 ms for square.
 *   Peer: the same card through previewCard in process (no HTTP, no JSON).
 * The server runs in this process (requests one at a time, so the client's share is small) on the
 * shared Redis under a prefix of its own, deleted at the end. Usage: npm run bench:workspace
 * [-- --only quotes-page|preview] [--quotes N].
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { previewCard } from "../src/app/preview.service.js";
import { listQuotes, TEXT_SEARCH_WINDOW } from "../src/app/quotes.service.js";
import { addUser } from "../src/app/users.service.js";
import type { Quote } from "../src/domain/quote.js";
import { type RunningServer, startServer } from "../src/http/server.js";
import { ASSETS_DIR } from "../src/paths.js";
import { createSessionStore } from "../src/store/session.store.js";
import { harness } from "../test/http/fixtures.js";
import { saveAll } from "../test/support/builders.js";
import { benchQuotes, benchSpeakers } from "./pipeline/fixtures.js";

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    quotes: { type: "string", default: "10000" },
    requests: { type: "string", default: "100" },
  },
});
const N = Number(args.quotes);
const REQUESTS = Number(args.requests);
const WARM_UP = 20;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const fmt = (xs: number[]) => ({ p50: +pct(xs, 50).toFixed(1), p95: +pct(xs, 95).toFixed(1) });

async function timed(n: number, job: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARM_UP; i++) await job();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await job();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/**
 * The jobs timed in turns (one request of each per round, after WARM_UP rounds), so a load spike or
 * a GC pause on this shared machine falls on every job alike, not on whichever ran then. A job with
 * `every` k runs only every k-th round (the slow peer).
 */
async function interleaved(jobs: { n: number; job: () => Promise<unknown> }[]): Promise<number[][]> {
  const ms = jobs.map(() => [] as number[]);
  const rounds = Math.max(...jobs.map((j) => j.n));
  for (let r = 0; r < WARM_UP + rounds; r++) {
    for (const [i, j] of jobs.entries()) {
      const every = Math.max(1, Math.round(rounds / j.n));
      if (r >= WARM_UP && ((r - WARM_UP) % every !== 0 || ms[i]!.length >= j.n)) continue;
      if (r < WARM_UP && r >= Math.min(WARM_UP, 3) && every > 1) continue;
      const t0 = performance.now();
      await j.job();
      if (r >= WARM_UP) ms[i]!.push(performance.now() - t0);
    }
  }
  return ms;
}

const h = await harness("bench-workspace");
let server: RunningServer | undefined;
const rows: { section: string; target: string; p50: number; p95: number; budget?: string }[] = [];
try {
  const speakers = benchSpeakers(50);
  const quotes: Quote[] = benchQuotes(N, speakers.length).map((q, i) => {
    const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    return {
      ...q,
      createdAt: at,
      updatedAt: at,
      vetting: i % 5 === 0 ? { state: "pending" } : { state: "vetted", by: "bench", at },
    };
  });
  const t0 = performance.now();
  await saveAll(h.store, { speakers, quotes: [] });
  for (let i = 0; i < quotes.length; i += 500) await saveAll(h.store, { quotes: quotes.slice(i, i + 500) });
  console.error(`${N} quotes written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const staff = await addUser(h.store, "bench-staff", ["staff"], "bench");
  const session = await createSessionStore(h.store).create("bench-staff");
  server = await startServer({ ...h.deps, log: pino({ level: "warn" }), host: "127.0.0.1", port: 0 });
  const url = server.url;
  const page = (q: string) => async () => {
    const res = await fetch(`${url}/workspace/quotes${q}`, {
      headers: { cookie: `tm_session=${session.id}` },
    });
    if (res.status !== 200) throw new Error(`${q}: ${res.status}`);
    return res.text();
  };

  if (!args.only || args.only === "quotes-page") {
    const mid = quotes[Math.floor(N / 2)]!;
    const deep = `?after=${encodeURIComponent(`${mid.createdAt}|${mid.id}`)}&page=${Math.floor(N / 100)}`;
    const body = await page("?q=zzqx-never")();
    if (!body.includes("quotes searched")) throw new Error("text search page has no summary");
    const targets: [string, string][] = [
      ["first page, no filter", ""],
      ["deep page from its cursor", deep],
      ["state + locale (combined)", "?state=pending&locale=ar"],
      ["one speaker", `?speaker=${speakers[6]!.id}`],
      [
        `text search, no match (one ${TEXT_SEARCH_WINDOW.toLocaleString("en")}-quote window)`,
        "?q=zzqx-never",
      ],
    ];
    // The API's and the CLI's list: one page of JSON through the same store paging.
    const api = (q: string) => async () => {
      const res = await fetch(`${url}/api/quotes?limit=50${q}`, {
        headers: { authorization: `Bearer ${staff.token}` },
      });
      if (res.status !== 200) throw new Error(`api ${q}: ${res.status}`);
      return res.json();
    };
    const apiTargets: [string, string][] = [
      ["GET /api/quotes?limit=50, first page", ""],
      ["GET /api/quotes?limit=50, state + locale", "&state=pending&locale=ar"],
    ];
    // Peer: the list as it was before, every matching quote read then sorted (in process, no HTML).
    const peer = async () => (await listQuotes(h.store, {})).slice(0, 50);
    const times = await interleaved([
      ...targets.map(([, q]) => ({ n: REQUESTS, job: page(q) })),
      ...apiTargets.map(([, q]) => ({ n: REQUESTS, job: api(q) })),
      { n: Math.min(REQUESTS, 30), job: peer },
    ]);
    targets.forEach(([name], i) => {
      rows.push({ section: "quotes page", target: name, ...fmt(times[i]!), budget: "p95 <= 150" });
    });
    apiTargets.forEach(([name], i) => {
      rows.push({ section: "quotes API", target: name, ...fmt(times[targets.length + i]!) });
    });
    rows.push({
      section: "quotes page",
      target: `peer: read all ${N} then slice (no HTTP), interleaved`,
      ...fmt(times.at(-1)!),
    });
  }

  if (!args.only || args.only === "preview") {
    const sample = path.join(ASSETS_DIR, "sample");
    const raw = JSON.parse(readFileSync(path.join(sample, "campaign.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const brand = raw.brand as Record<string, unknown>;
    const draft = {
      ...raw,
      id: "bench-preview",
      brand: { ...brand, logo: path.join(sample, String(brand.logo)) },
    };
    const quoteId = quotes.find((q) => q.locale === "en")!.id;
    for (const format of raw.formats as string[]) {
      const post = async () => {
        const res = await fetch(`${url}/api/campaigns/preview`, {
          method: "POST",
          headers: { authorization: `Bearer ${staff.token}`, "content-type": "application/json" },
          body: JSON.stringify({ campaign: draft, quoteId, format }),
        });
        if (res.status !== 200) throw new Error(`preview ${format}: ${res.status} ${await res.text()}`);
        return res.arrayBuffer();
      };
      const n = Math.min(REQUESTS, 40);
      rows.push({
        section: "live preview (HTTP)",
        target: format,
        ...fmt(await timed(n, post)),
        budget: format === "square" ? "p95 <= 100" : undefined,
      });
      const direct = await timed(Math.min(n, 20), () =>
        previewCard(h.deps, { draft, quoteId, format: format as "square", actor: "bench-staff" }),
      );
      rows.push({ section: "live preview (HTTP)", target: `peer: ${format} in process`, ...fmt(direct) });
    }
  }
} finally {
  await h.close(server);
}

console.log(
  `\nWorkspace latency, ${N} quotes, ${REQUESTS} requests per figure after ${WARM_UP} warm-up (ms)\n`,
);
console.log("| section | target | p50 | p95 | budget |\n| --- | --- | ---: | ---: | --- |");
for (const r of rows) console.log(`| ${r.section} | ${r.target} | ${r.p50} | ${r.p95} | ${r.budget ?? ""} |`);
