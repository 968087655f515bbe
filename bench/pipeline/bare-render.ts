import { loadBrandLogo } from "../../src/app/brand.service.js";
import type { Campaign } from "../../src/domain/campaign.js";
import { directionOf } from "../../src/domain/locale.js";
import { publicationView } from "../../src/domain/publication.js";
import type { Quote } from "../../src/domain/quote.js";
import type { Speaker } from "../../src/domain/speaker.js";
import { type CardInput, renderCard } from "../../src/render/card/card.render.js";
import type { Store } from "../../src/store/store.js";
import { inLanes, now } from "./stats.js";

/**
 * The card inputs the render worker builds for the campaign's outputs (quote × format, in the order
 * queueing adds the jobs): same publication view, same brand with its stored logo, same encoding.
 */
export async function cardInputsFor(
  store: Store,
  campaign: Campaign,
  quotes: Quote[],
  speakers: Speaker[],
): Promise<CardInput[]> {
  const logoPng = await loadBrandLogo(store, campaign.brand);
  const byId = new Map(speakers.map((s) => [s.id, s]));
  const inputs: CardInput[] = [];
  for (const q of quotes) {
    const view = publicationView(q, byId.get(q.speakerId)!, campaign, new Date());
    for (const format of campaign.formats) {
      inputs.push({
        format,
        locale: q.locale,
        direction: directionOf(q.locale),
        quote: view.quote.text,
        attribution: view.attribution,
        hashtags: view.campaign.hashtags,
        brand: { ...campaign.brand, logoPng },
        encoding: campaign.encoding,
      });
    }
  }
  return inputs;
}

/** renderCard in this process, `lanes` in flight, nothing written: the ceiling for the pipeline. */
export async function bareRender(
  inputs: CardInput[],
  lanes = 2,
): Promise<{ cards: number; seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await inLanes(inputs.length, lanes, (i) => renderCard(inputs[i]!));
  const seconds = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { cards: inputs.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}
