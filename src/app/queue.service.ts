import { createHash } from "node:crypto";
import type { Campaign } from "../domain/campaign.js";
import { AppError, notFound } from "../domain/errors.js";
import { directionOf } from "../domain/locale.js";
import { type Output, outputId } from "../domain/output.js";
import type { Quote } from "../domain/quote.js";
import type { Queues } from "../queues/queues.js";
import type { Store } from "../store/store.js";

export type QueueResult = {
  campaignId: string;
  outputIds: string[];
  created: number;
  existing: number;
  jobsAdded: number;
  /** Quotes left out, and why (a speaker who withdrew consent gets no new outputs). */
  skipped: { quoteId: string; reason: string }[];
};

/** A brand change must give new outputs: its version is its content. */
export function brandVersion(c: Campaign): string {
  return createHash("sha256").update(JSON.stringify(c.brand)).digest("hex").slice(0, 12);
}

export function matchingQuotes(campaign: Campaign, vetted: Quote[], onlyIds?: string[]): Quote[] {
  return vetted.filter(
    (q) =>
      campaign.narratives.includes(q.narrative) &&
      campaign.locales.includes(q.locale) &&
      (!onlyIds?.length || onlyIds.includes(q.id)),
  );
}

/**
 * For every vetted quote that matches the campaign, and every format, an Output and its render job.
 * Idempotent: the output id is a hash of what would be rendered, and the job id is the output id;
 * outputs still `queued` get their job added again in case an earlier run stopped in between.
 */
export async function queueCampaign(
  store: Store,
  queues: Queues,
  opts: { campaignId: string; actor: string; templateVersion: string; quoteIds?: string[]; now?: Date },
): Promise<QueueResult> {
  if (!opts.actor.trim())
    throw new AppError("invalid_input", "who is queueing is required", [
      { field: "as", message: "required" },
    ]);
  const found = await store.campaigns.get(opts.campaignId);
  if (!found) throw notFound("campaign", opts.campaignId);
  const campaign = found.value;
  const vetted = await store.quotes.list(["state:vetted"]);
  if (opts.quoteIds?.length) {
    const unknown = opts.quoteIds.filter((id) => !vetted.some((q) => q.id === id));
    if (unknown.length) {
      throw new AppError(
        "invalid_input",
        `not vetted or unknown: ${unknown.join(", ")}`,
        unknown.map((id) => ({ field: "quote", message: `${id} is not a vetted quote` })),
      );
    }
  }
  const matching = matchingQuotes(campaign, vetted, opts.quoteIds);
  const speakers = new Map(
    (await store.speakers.getMany([...new Set(matching.map((q) => q.speakerId))])).map((s) => [
      s.value.id,
      s.value,
    ]),
  );
  const skipped: QueueResult["skipped"] = [];
  const quotes = matching.filter((q) => {
    const speaker = speakers.get(q.speakerId);
    if (!speaker) skipped.push({ quoteId: q.id, reason: `speaker ${q.speakerId} does not exist` });
    else if (speaker.consent?.state === "withdrawn")
      skipped.push({ quoteId: q.id, reason: `speaker ${q.speakerId} withdrew consent` });
    else return true;
    return false;
  });
  const at = (opts.now ?? new Date()).toISOString();
  const bVersion = brandVersion(campaign);

  const planned: Output[] = [];
  for (const q of quotes) {
    for (const format of campaign.formats) {
      const id = outputId({
        campaignId: campaign.id,
        quoteId: q.id,
        quoteText: q.text,
        locale: q.locale,
        format,
        templateVersion: opts.templateVersion,
        brandVersion: bVersion,
      });
      planned.push({
        id,
        campaignId: campaign.id,
        quoteId: q.id,
        speakerId: q.speakerId,
        locale: q.locale,
        direction: directionOf(q.locale),
        narrative: q.narrative,
        format,
        encoding: campaign.encoding,
        templateVersion: opts.templateVersion,
        brandVersion: bVersion,
        status: "queued",
        queuedBy: opts.actor,
        queuedAt: at,
        updatedAt: at,
        attempts: 0,
        decisions: [],
        missedDrops: [],
      });
    }
  }

  const existing = new Map(
    (await store.outputs.getMany(planned.map((o) => o.id))).map((v) => [v.value.id, v.value]),
  );
  const fresh = planned.filter((o) => !existing.has(o.id));
  await store.outputs.commit({
    writes: fresh.map((o) => store.outputs.write(o)),
    audit: fresh.map((o) => ({ actor: opts.actor, action: "output.queued", entity: o.id, to: "queued", at })),
  });
  const needJob = planned.filter((o) => (existing.get(o.id)?.status ?? "queued") === "queued");
  const before = await Promise.all(needJob.map((o) => queues.render.getJob(o.id)));
  await queues.render.addBulk(
    needJob.map((o) => ({ name: "render", data: { outputId: o.id }, opts: { jobId: o.id } })),
  );
  return {
    campaignId: campaign.id,
    outputIds: planned.map((o) => o.id),
    created: fresh.length,
    existing: planned.length - fresh.length,
    jobsAdded: before.filter((j) => !j).length,
    skipped,
  };
}
