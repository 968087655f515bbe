/**
 * Where a card's time goes, testimony against Skia, one card at a time in this process: CPU ms per
 * card (process.cpuUsage, every thread: libvips' included) and wall ms, per step. CPU time is the
 * figure to read on a loaded machine, where wall time mostly measures the neighbours.
 *
 *   npx tsx bench/render/profile.ts [--cards 40] [--format square] [--case latin]
 */
import { parseArgs } from "node:util";
import { FORMAT_NAMES, type Format } from "../../src/domain/campaign.js";
import { acquireCanvas, baseLayer, releaseCanvas } from "../../src/render/card/base-layer.js";
import { normaliseBrandImage } from "../../src/render/card/brand-image.js";
import { renderCard } from "../../src/render/card/card.render.js";
import { parseColour } from "../../src/render/card/colour.js";
import { encode } from "../../src/render/card/encode.js";
import { fitText } from "../../src/render/card/fit.js";
import { ensureFonts, face } from "../../src/render/card/fonts.js";
import { layoutFor } from "../../src/render/card/layout.js";
import { toMarkup, withLanguage } from "../../src/render/card/pango.js";
import { renderText } from "../../src/render/card/text-layer.js";
import { BRAND, LOGO_SVG, SCRIPT_CASES } from "./cards.js";
import { skiaPeer } from "./skia.js";

const { values } = parseArgs({
  options: {
    cards: { type: "string", default: "40" },
    format: { type: "string" },
    case: { type: "string" },
  },
});
const cards = Number(values.cards);
const formats = values.format ? [values.format as Format] : FORMAT_NAMES;
const cases = SCRIPT_CASES.filter((c) => !values.case || c.name === values.case);

const logoPng = await normaliseBrandImage(Buffer.from(LOGO_SVG));
await ensureFonts();
const skia = await skiaPeer(logoPng);

async function step(name: string, job: (i: number) => Promise<unknown>): Promise<string> {
  for (let i = 0; i < 3; i++) await job(10_000 + i);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < cards; i++) await job(i);
  const wall = (performance.now() - t0) / cards;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / cards;
  return `| ${name} | ${cpuMs.toFixed(1)} | ${wall.toFixed(1)} |`;
}

console.log(
  `${cards} cards per step, one at a time; load average ${(await import("node:os")).loadavg()[0]!.toFixed(2)}`,
);
for (const format of formats) {
  for (const c of cases) {
    const sizes = new Map<number, number>();
    const L = layoutFor(format);
    const input = (i: number) => c.card(format, i, logoPng);
    const script = input(0).direction === "rtl" ? "arabic" : "latin";
    const rows = [
      await step("testimony: whole card", async (i) => {
        const card = await renderCard(input(i));
        sizes.set(i, card.fontSize);
      }),
      await step("  Pango: the quote once at its fitted size", (i) =>
        renderText({
          markup: withLanguage(toMarkup(input(i).quote, input(i).direction), input(i).locale),
          face: face(script, "regular"),
          size: sizes.get(i) ?? 40,
          width: L.text.width,
        }),
      ),
      await step("  fitText: the quote's size search (every render it needs)", (i) =>
        fitText({
          text: input(i).quote,
          markup: withLanguage(toMarkup(input(i).quote, input(i).direction), input(i).locale),
          face: face(script, "regular"),
          box: { width: L.text.width, height: L.group.height - (L.mark ? 300 : 0) },
          colour: [255, 255, 255],
          minSize: L.quote.minSize,
          maxSize: L.quote.maxSize,
        }),
      ),
      await step("  copy the cached base layer + PNG encode of RGB", async () => {
        const base = await baseLayer({
          layout: L,
          direction: input(0).direction,
          top: parseColour(BRAND.background.from, "background"),
          bottom: parseColour(BRAND.background.to, "background"),
          logoPng,
        });
        const canvas = acquireCanvas(base);
        try {
          await encode(canvas, "png");
        } finally {
          releaseCanvas(canvas);
        }
      }),
      await step("Skia: whole card (draw + sharp encode)", (i) => skia(input(i), sizes.get(i) ?? 40)),
      await step("  Skia: draw only (canvas.data(), no encode)", (i) =>
        skia(input(i), sizes.get(i) ?? 40, { encode: false }),
      ),
    ];
    console.log(`\n### ${format} / ${c.name}\n\n| step | CPU ms/card | wall ms/card |\n|---|---:|---:|`);
    console.log(rows.join("\n"));
  }
}
