/**
 * Card rendering throughput: testimony's renderer (sharp + Pango) against two peers drawing the same
 * card: Skia (@napi-rs/canvas, encoded by sharp at the same PNG level and filter; bench/render/skia.ts) and
 * satori + @resvg/resvg-js; and against the encode floor (testimony's own PNG writer encoding the
 * card's background alone). testimony, Skia and the floor run interleaved in one child process, so the ratio
 * that is the target (testimony ÷ Skia) compares like with like on a loaded machine; satori runs in
 * a child of its own.
 *
 * Rows are formats × cases × cards in flight; a case is a named card source (RENDER_CASES: Latin and
 * Arabic now), so a per-locale section is more entries in that list.
 * Cards per second per locale (en ar fr de ru tr, emoji quotes apart) come after, from
 * bench/render/locales.ts (testimony alone, in this process).
 *
 *   npx tsx bench/render.bench.ts [--reps 3] [--cards 20]
 */
import { fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import sharp from "sharp";
import { FORMAT_NAMES, FORMATS, type Format } from "../src/domain/campaign.js";
import { FONTS_DIR } from "../src/paths.js";
import { baseLayer } from "../src/render/card/base-layer.js";
import { normaliseBrandImage } from "../src/render/card/brand-image.js";
import { renderCard } from "../src/render/card/card.render.js";
import { parseColour } from "../src/render/card/colour.js";
import { ENCODE_OPTIONS, encode } from "../src/render/card/encode.js";
import { layoutFor } from "../src/render/card/layout.js";
import { BRAND, LOGO_SVG, type RenderCase, SCRIPT_CASES, satoriCard } from "./render/cards.js";
import { type LocaleBenchRow, runLocaleBench } from "./render/locales.js";
import { skiaPeer } from "./render/skia.js";

/** The card sources the bench measures, in order; add a case here to get rows for it. */
export const RENDER_CASES: RenderCase[] = [...SCRIPT_CASES];

type Engine = "testimony" | "skia" | "satori+resvg" | "encode floor";
export type RenderBenchRow = {
  engine: Engine;
  format: Format;
  /** RenderCase name: "latin", "arabic", ... */
  case: string;
  concurrency: 1 | 2;
  cardsPerSec: number;
  msPerCard: number;
  /**
   * CPU time of the whole process (every thread: libvips' and the JS thread) per card while this
   * engine's batches ran: less sensitive to a loaded machine than wall time.
   */
  cpuMsPerCard: number;
  /** Peak RSS of the engine's whole child process, MiB. */
  peakRssMiB: number;
};
type Options = { reps: number; cardsPerRep: number };
type ChildResult = {
  rows: Omit<RenderBenchRow, "peakRssMiB">[];
  sizes: Record<string, number>;
  peakRssMiB: number;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `n` jobs through `concurrency` lanes; milliseconds for all of them. */
async function timed(n: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await job(next++);
    }),
  );
  return performance.now() - start;
}

type Job = (format: Format, c: RenderCase, i: number) => Promise<unknown>;
const sizeKey = (format: Format, c: RenderCase, i: number) => `${format}/${c.name}/${i}`;

/**
 * Per format, case and concurrency: a warm-up, then `reps` batches of `cardsPerRep` cards for
 * each engine in turn, so engines measured in the same child share the machine's conditions.
 * Engines run in the order given: a peer that needs testimony's fitted size comes after it.
 */
async function measure(jobs: Partial<Record<Engine, Job>>, opts: Options): Promise<ChildResult["rows"]> {
  const rows: ChildResult["rows"] = [];
  const engines = Object.entries(jobs) as [Engine, Job][];
  for (const format of FORMAT_NAMES) {
    for (const c of RENDER_CASES) {
      for (const concurrency of [1, 2] as const) {
        const perRep = new Map<Engine, number[]>(engines.map(([engine]) => [engine, []]));
        const cpuPerRep = new Map<Engine, number[]>(engines.map(([engine]) => [engine, []]));
        for (const [, job] of engines) await timed(4, concurrency, (i) => job(format, c, 100_000 + i));
        for (let rep = 0; rep < opts.reps; rep++) {
          const first = rep * opts.cardsPerRep;
          for (const [engine, job] of engines) {
            const cpu0 = process.cpuUsage();
            const ms = await timed(opts.cardsPerRep, concurrency, (i) => job(format, c, first + i));
            const cpu = process.cpuUsage(cpu0);
            perRep.get(engine)!.push(ms / opts.cardsPerRep);
            cpuPerRep.get(engine)!.push((cpu.user + cpu.system) / 1000 / opts.cardsPerRep);
          }
        }
        for (const [engine, times] of perRep) {
          const msPerCard = median(times);
          const cpuMsPerCard = median(cpuPerRep.get(engine)!);
          rows.push({
            engine,
            format,
            case: c.name,
            concurrency,
            msPerCard,
            cardsPerSec: 1000 / msPerCard,
            cpuMsPerCard,
          });
        }
      }
    }
  }
  return rows;
}

/**
 * Our renderer, Skia drawing the same card at our fitted quote size, and the encode floor (the
 * card's background alone to PNG), interleaved in one process.
 */
async function testimonyChild(opts: Options, logoPng: Buffer): Promise<ChildResult> {
  const sizes: Record<string, number> = {};
  const testimonyJob: Job = async (format, c, i) => {
    const card = await renderCard(c.card(format, i, logoPng));
    sizes[sizeKey(format, c, i)] = card.fontSize;
  };
  const skia = await skiaPeer(logoPng);
  const skiaJob: Job = (format, c, i) => skia(c.card(format, i, logoPng), sizes[sizeKey(format, c, i)] ?? 40);
  const floorJob: Job = async (format) => {
    const background = await baseLayer({
      layout: layoutFor(format),
      direction: "ltr",
      top: parseColour(BRAND.background.from, "background"),
      bottom: parseColour(BRAND.background.to, "background"),
    });
    return encode(background, "png");
  };
  const rows = await measure({ "encode floor": floorJob, testimony: testimonyJob, skia: skiaJob }, opts);
  return { rows, sizes, peakRssMiB: 0 };
}

async function satoriChild(
  opts: Options,
  logoPng: Buffer,
  sizes: Record<string, number>,
): Promise<ChildResult> {
  const [{ default: satori }, { Resvg, renderAsync }] = await Promise.all([
    import("satori"),
    import("@resvg/resvg-js"),
  ]);
  const font = (name: string, file: string, weight: 400 | 700) => ({
    name,
    data: readFileSync(path.join(FONTS_DIR, file)),
    weight,
    style: "normal" as const,
  });
  const fonts = [
    font("Noto Sans", "NotoSans-Regular.ttf", 400),
    font("Noto Sans", "NotoSans-Bold.ttf", 700),
    font("Noto Naskh Arabic", "NotoNaskhArabic-Regular.ttf", 400),
    font("Noto Naskh Arabic", "NotoNaskhArabic-Bold.ttf", 700),
  ];
  const logo = `data:image/png;base64,${logoPng.toString("base64")}`;
  let lanes = 0;
  const rows = await measure(
    {
      "satori+resvg": async (format, c, i) => {
        const input = c.card(format, i, logoPng);
        const size = sizes[sizeKey(format, c, i)] ?? 40;
        const svg = await satori(satoriCard(input, size, logo) as never, { ...FORMATS[format], fonts });
        const options = { fitTo: { mode: "original" as const }, font: { loadSystemFonts: false } };
        // Two lanes in flight: let resvg render off the main thread, its best case.
        lanes++;
        if (lanes > 1) await renderAsync(svg, options).then((r) => r.asPng());
        else new Resvg(svg, options).render().asPng();
        lanes--;
        // resvg-js issue 216: without a turn of the event loop between renders, RSS grows to gigabytes.
        await new Promise((resolve) => setImmediate(resolve));
      },
    },
    opts,
  );
  return { rows, sizes: {}, peakRssMiB: 0 };
}

// ---- parent: one child process per engine, then the report ----

type Machine = {
  cpu: string;
  cores: number;
  node: string;
  sharp: string;
  libvips: string;
  date: string;
  loadAverage: string;
};
type ChildRequest = { engine: Engine; opts: Options; logoPng: string; sizes: Record<string, number> };
const THIS_FILE = fileURLToPath(import.meta.url);

function runChild(request: ChildRequest): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(THIS_FILE, ["--child"], {
      execArgv: process.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let result: ChildResult | undefined;
    child.on("message", (m) => {
      result = m as ChildResult;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      result ? resolve(result) : reject(new Error(`${request.engine} bench child exited with ${code}`)),
    );
    child.send(request);
  });
}

async function childMain(request: ChildRequest): Promise<void> {
  const logoPng = Buffer.from(request.logoPng, "base64");
  const result =
    request.engine === "testimony"
      ? await testimonyChild(request.opts, logoPng)
      : await satoriChild(request.opts, logoPng, request.sizes);
  result.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.send!(result, () => process.exit(0));
}

export async function runRenderBench(options: { reps?: number; cardsPerRep?: number } = {}): Promise<{
  rows: RenderBenchRow[];
  locales: LocaleBenchRow[];
  markdown: string;
  machine: Machine;
  options: Options;
}> {
  const opts = { reps: Math.max(3, options.reps ?? 3), cardsPerRep: options.cardsPerRep ?? 20 };
  const loadAverage = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  const logoPng = (await normaliseBrandImage(Buffer.from(LOGO_SVG))).toString("base64");
  const rows: RenderBenchRow[] = [];
  let sizes: Record<string, number> = {};
  const peaks: Partial<Record<Engine, number>> = {};
  // The testimony child also measures Skia and the encode floor, interleaved with its cards.
  for (const engine of ["testimony", "satori+resvg"] as const) {
    const result = await runChild({ engine, opts, logoPng, sizes });
    if (engine === "testimony") sizes = result.sizes;
    peaks[engine] = result.peakRssMiB;
    rows.push(...result.rows.map((r) => ({ ...r, peakRssMiB: result.peakRssMiB })));
  }
  const machine: Machine = {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    node: process.version,
    sharp: sharp.versions.sharp ?? "?",
    libvips: sharp.versions.vips,
    date: new Date().toISOString(),
    loadAverage,
  };
  // Cards per locale (and emoji quotes apart), testimony alone: bench/render/locales.ts.
  const locales = await runLocaleBench(
    { reps: opts.reps, cardsPerRep: Math.max(4, Math.round(opts.cardsPerRep / 2)) },
    Buffer.from(logoPng, "base64"),
  );
  const markdown = `${toMarkdown(rows, peaks, machine, opts)}\n${locales.markdown}`;
  return { rows, locales: locales.rows, markdown, machine, options: opts };
}

/** testimony ÷ Skia speed at or above this, per format and case, is the target. */
export const SKIA_TARGET = 1.0;

function toMarkdown(
  rows: RenderBenchRow[],
  peaks: Partial<Record<Engine, number>>,
  m: Machine,
  o: Options,
): string {
  const find = (engine: Engine, r: RenderBenchRow) =>
    rows.find(
      (x) =>
        x.engine === engine && x.format === r.format && x.case === r.case && x.concurrency === r.concurrency,
    )!;
  const f1 = (n: number) => n.toFixed(1);
  const x2 = (n: number) => `${n.toFixed(2)}×`;
  const lines = [
    "## Card rendering",
    "",
    `${m.cpu}, ${m.cores} cores, Node ${m.node}, sharp ${m.sharp} (libvips ${m.libvips}), ${m.date}; load average at the start ${m.loadAverage}.`,
    `Median of ${o.reps} repetitions of ${o.cardsPerRep} cards after a warm-up; every card has its own quote; PNG at zlib level ${ENCODE_OPTIONS.png.compressionLevel}, filter none (testimony writes its PNG with node:zlib, src/render/card/png.ts; the encode floor is that writer on the background alone). testimony, Skia and the encode floor run interleaved in one process; Skia draws each card at testimony's fitted quote size and sharp encodes it at the same level and filter; satori + resvg runs in a process of its own.`,
    "",
    "| format | script | in flight | testimony cards/s | ms/card | Skia cards/s | satori+resvg cards/s | encode floor cards/s | testimony ÷ Skia | testimony ÷ Skia by CPU | testimony ÷ satori | testimony ÷ floor (time) | CPU ms/card testimony / Skia / satori |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const missed: string[] = [];
  for (const r of rows.filter((x) => x.engine === "testimony")) {
    const skia = find("skia", r);
    const satori = find("satori+resvg", r);
    const floor = find("encode floor", r);
    const vsSkia = r.cardsPerSec / skia.cardsPerSec;
    if (vsSkia < SKIA_TARGET)
      missed.push(`${r.format}/${r.case} at ${r.concurrency} in flight (${x2(vsSkia)})`);
    lines.push(
      `| ${r.format} | ${r.case} | ${r.concurrency} | ${f1(r.cardsPerSec)} | ${f1(r.msPerCard)} | ${f1(skia.cardsPerSec)} | ${f1(satori.cardsPerSec)} | ${f1(floor.cardsPerSec)} | ${x2(vsSkia)} | ${x2(skia.cpuMsPerCard / r.cpuMsPerCard)} | ${x2(r.cardsPerSec / satori.cardsPerSec)} | ${x2(r.msPerCard / floor.msPerCard)} | ${f1(r.cpuMsPerCard)} / ${f1(skia.cpuMsPerCard)} / ${f1(satori.cpuMsPerCard)} |`,
    );
  }
  const peak = (e: Engine) => `${e} ${Math.round(peaks[e] ?? 0)} MiB`;
  lines.push(
    "",
    missed.length === 0
      ? `testimony ÷ Skia ≥ ${SKIA_TARGET.toFixed(1)}× in every row: **met**.`
      : `testimony ÷ Skia ≥ ${SKIA_TARGET.toFixed(1)}×: **missed** in ${missed.join(", ")}.`,
    "",
    "CPU ms/card is the CPU time of the engine's whole process (all threads) while its batches ran, divided by the cards: on a loaded machine it moves much less than wall time. testimony ÷ Skia by CPU is Skia's CPU ms/card over testimony's (above 1: testimony spends less).",
    "",
    `Peak RSS per process: ${peak("testimony")} (Skia and the encode floor ran in the same process, interleaved), ${peak("satori+resvg")}.`,
    "",
  );
  return lines.join("\n");
}

const argValue = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--child")) {
    process.once("message", (request) => void childMain(request as ChildRequest));
  } else {
    const result = await runRenderBench({ reps: argValue("--reps"), cardsPerRep: argValue("--cards") });
    console.log(result.markdown);
    const dir = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "render.md"), result.markdown);
    writeFileSync(
      path.join(dir, "render.json"),
      `${JSON.stringify({ machine: result.machine, options: result.options, rows: result.rows, locales: result.locales }, null, 2)}\n`,
    );
  }
}
