import type { Rgb } from "./blend.js";
import { type Face, lineHeight } from "./fonts.js";
import { type Prepared, prepare, wrap } from "./measure.js";
import { renderText, type TextMask } from "./text-layer.js";

export type FitRequest = {
  /** Plain text (for the model) and the markup Pango renders from it. */
  text: string;
  markup: string;
  face: Face;
  box: { width: number; height: number };
  /** The text's colour, for the RGBA path of text with emoji. */
  colour: Rgb;
  minSize: number;
  maxSize: number;
};
export type Fitted = { size: number; mask: TextMask };

/** Thrown when even `minSize` does not fit; card.render.ts turns it into a CardError. */
export class NoFit extends Error {}

const MAX_RENDERS = 4;
/**
 * When the model puts the ink this far past the box at the smallest size, the text is refused
 * without rendering: the model's line counts are exact in practice, and a huge quote would
 * otherwise be rasterised whole just to be thrown away.
 */
const HOPELESS = 1.25;

/**
 * The largest whole-pixel size at which the text's ink fits the box. The size comes from the
 * model (measure.ts: line breaks from advance widths, ink from glyph extents), searched in
 * microseconds; the candidate is then rendered, which is both the verification and the layer the
 * card uses. When a render disagrees with the model, the model is corrected from it (width factor
 * for line breaks, pixel offset for hinting) and the next candidate chosen, so the usual cost is
 * one render and the worst a few. libvips' own fitting (text `height`) lays the text out at every
 * step of its search, which costs far more.
 */
export async function fitText(req: FitRequest): Promise<Fitted> {
  const prepared = prepare(req.text, req.face);
  const em = req.face.metrics.unitsPerEm;
  let widthFactor = 1;
  let inkOffset = 0;

  const modelInk = (size: number) => {
    const w = wrap(prepared, size, req.box.width, widthFactor);
    const scale = size / em;
    const ink =
      (w.lines - 1) * lineHeight(req.face, size) +
      Math.ceil(w.firstTop * scale) +
      Math.ceil(-w.lastBottom * scale);
    return { ...w, ink };
  };
  const fits = (size: number) => {
    const m = modelInk(size);
    return !m.overflow && m.ink + inkOffset <= req.box.height;
  };
  const largestPredicted = (low: number, high: number) => {
    if (low > high) return undefined;
    if (!fits(low)) return low;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (fits(mid)) low = mid;
      else high = mid - 1;
    }
    return low;
  };

  const smallest = modelInk(req.minSize);
  if (smallest.ink > req.box.height * HOPELESS) throw new NoFit(`does not fit at ${req.minSize}px`);

  let best: Fitted | undefined;
  let low = req.minSize;
  let high = req.maxSize;
  let size = largestPredicted(low, high);
  for (let renders = 0; size !== undefined && renders < MAX_RENDERS; renders++) {
    const mask = await renderText({ ...req, size, width: req.box.width });
    let model = modelInk(size);
    const lines =
      model.lines + Math.round((mask.height - model.ink - inkOffset) / lineHeight(req.face, size));
    if (lines !== model.lines) {
      widthFactor = calibrate(prepared, size, req.box.width, lines, widthFactor);
      model = modelInk(size);
    }
    if (model.lines === lines) inkOffset = mask.height - model.ink;

    if (mask.height <= req.box.height && mask.width <= req.box.width) {
      best = { size, mask };
      low = size + 1;
    } else {
      high = size - 1;
    }
    const next = largestPredicted(low, high);
    // The corrected model says the next size up will not fit either: trust it rather than render again.
    if (best && next === low && !fits(low)) break;
    size = next;
  }
  if (!best) throw new NoFit(`does not fit at ${req.minSize}px`);
  return best;
}

/**
 * A width factor at which the model gives the line count the render showed: the middle of the
 * range of factors that do, so that neighbouring sizes are predicted as well as possible.
 */
function calibrate(prepared: Prepared, size: number, width: number, lines: number, current: number): number {
  const lowestGiving = (target: number) => {
    let low = 0.75;
    let high = 1.33;
    for (let i = 0; i < 14; i++) {
      const mid = (low + high) / 2;
      if (wrap(prepared, size, width, mid).lines < target) low = mid;
      else high = mid;
    }
    return high;
  };
  const from = lowestGiving(lines);
  const to = lowestGiving(lines + 1);
  return to > from ? (from + to) / 2 : current;
}
