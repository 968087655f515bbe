import path from "node:path";
import type { Campaign, Format, TextVariant } from "../domain/campaign.js";
import { directionOf } from "../domain/locale.js";
import { type FailureReason, move, type Output } from "../domain/output.js";
import { AttributionRefused, publicationView } from "../domain/publication.js";
import type { Quote } from "../domain/quote.js";
import { findRedactionHit, type RedactionTerm } from "../domain/redaction.js";
import type { Speaker } from "../domain/speaker.js";
import type { Logger } from "../logger.js";
import { CardError, renderCard } from "../render/card/card.render.js";
import { sha256 } from "../render/files.js";
import { TextTemplateError, type TextTemplates } from "../render/text/text.render.js";
import { diskBlobStore } from "../storage/disk.js";
import type { BlobStore } from "../storage/index.js";
import type { BatchReads } from "../store/commit.js";
import type { Store } from "../store/store.js";
import { loadBrandLogo } from "./brand.service.js";
import { redactionHit, termsFor } from "./safety.service.js";

export type RenderDeps = {
  store: Store;
  dataDir: string;
  templates: TextTemplates;
  log: Logger;
  /** Where cards and texts go (createStorage); without it, files under dataDir (today's layout). */
  files?: BlobStore;
};

/** A render that will never succeed as things stand; the reason is saved on the output. */
export class RenderFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly term?: string,
  ) {
    super(message);
  }
}

/** Storage keys (and paths under DATA_DIR): the same output always writes the same key, so a retry overwrites. */
export const cardPath = (o: Pick<Output, "campaignId" | "id" | "encoding">) =>
  path.posix.join("outputs", o.campaignId, `${o.id}.${o.encoding === "jpeg" ? "jpg" : o.encoding}`);
export const textPath = (o: Pick<Output, "campaignId" | "id">, variant: TextVariant) =>
  path.posix.join("outputs", o.campaignId, `${o.id}.${variant}.txt`);

type Attempt = { number: number; final: boolean };

/**
 * queued → rendering → in_review, or failed with its reason. Safe to run twice: an output already past
 * rendering is left alone, and files have deterministic paths written atomically.
 *
 * Three requests to Redis: the output; the "rendering" commit, which also reads, after its writes and
 * in the same script, the quote, speaker, campaign and the redaction index sets the render needs; the
 * "in_review" (or "failed") commit. Redaction terms are read by id only the first time a process
 * meets them (an id is a digest of the term, so its text never changes; removal drops the id from
 * the index, which is read every time).
 */
export async function renderOutput(
  deps: RenderDeps,
  id: string,
  attempt: Attempt,
): Promise<"rendered" | "skipped"> {
  const { store } = deps;
  const found = await store.outputs.get(id);
  if (!found) throw new RenderFailure("error", `output ${id} does not exist`);
  if (found.value.status !== "queued" && found.value.status !== "rendering") return "skipped";
  const startedAt = new Date().toISOString();
  const started = move(found.value, "rendering", startedAt, { attempts: attempt.number });
  const read = await store.outputs.commit({
    writes: [store.outputs.write(started, found)],
    audit:
      found.value.status === "rendering"
        ? []
        : [
            {
              actor: "render-worker",
              action: "output.rendering",
              entity: id,
              from: "queued",
              to: "rendering",
              at: startedAt,
            },
          ],
    read: {
      hashes: [
        store.quotes.keyOf(started.quoteId),
        store.speakers.keyOf(started.speakerId),
        store.campaigns.keyOf(started.campaignId),
      ],
      sets: [store.redactions.indexKey("global"), store.redactions.indexKey(`speaker:${started.speakerId}`)],
    },
  });
  const rev = found.rev + 1;

  const log = deps.log.child({ outputId: id, campaignId: started.campaignId, attempt: attempt.number });
  try {
    const done = await produce(deps, started, read);
    const at = new Date().toISOString();
    const finished = move(started, "in_review", at, { ...done, failure: undefined });
    await store.outputs.commit({
      writes: [{ ...store.outputs.write(finished, { value: started, rev }) }],
      audit: [
        {
          actor: "render-worker",
          action: "output.rendered",
          entity: id,
          from: "rendering",
          to: "in_review",
          at,
        },
      ],
    });
    log.info({ format: started.format, locale: started.locale, fontSize: done.fontSize }, "output rendered");
    return "rendered";
  } catch (err) {
    const failure =
      err instanceof RenderFailure
        ? err
        : attempt.final
          ? new RenderFailure("error", (err as Error).message)
          : undefined;
    if (failure) {
      await markFailed(store, { value: started, rev }, failure, attempt.number);
      log.warn({ reason: failure.reason }, "output failed");
    }
    throw failure ?? err;
  }
}

async function markFailed(
  store: Store,
  current: { value: Output; rev: number },
  f: RenderFailure,
  attempts: number,
) {
  const at = new Date().toISOString();
  const failed = move(current.value, "failed", at, {
    failure: { reason: f.reason, message: f.message, at, attempts, term: f.term },
  });
  await store.outputs.commit({
    writes: [store.outputs.write(failed, current)],
    audit: [
      {
        actor: "render-worker",
        action: "output.failed",
        entity: failed.id,
        from: "rendering",
        to: "failed",
        at,
        detail: f.reason,
      },
    ],
  });
}

async function produce(deps: RenderDeps, output: Output, read: BatchReads): Promise<Partial<Output>> {
  const { store } = deps;
  const [q, s, c] = read.hashes.map((h) => h.data);
  const quote = q === undefined ? undefined : store.quotes.decode(q);
  const speaker = s === undefined ? undefined : store.speakers.decode(s);
  const campaign = c === undefined ? undefined : store.campaigns.decode(c);
  if (quote?.vetting.state !== "vetted") {
    throw new RenderFailure(
      "quote_not_vetted",
      `quote ${output.quoteId} is ${quote?.vetting.state ?? "gone"}, no longer vetted`,
    );
  }
  if (!speaker || !campaign) throw new RenderFailure("error", "speaker or campaign is gone");
  const stored = await redactionTerms(store, read.sets.flat());
  const { view, variants, card } = await composeOutput(deps, {
    quote,
    speaker,
    campaign,
    format: output.format,
    terms: await termsFor(store, speaker, stored),
  });

  const files = { card: cardPath(output), text: {} as Partial<Record<TextVariant, string>> };
  const sums: Record<string, string> = { [files.card]: sha256(card.bytes) };
  // One file per output: the texts are kept on the record (`variants`), which is what review, the
  // API and export read; `files.text` only names the key each text's sha256 is listed under.
  for (const [variant, text] of Object.entries(variants) as [TextVariant, string][]) {
    const rel = textPath(output, variant);
    files.text[variant] = rel;
    sums[rel] = sha256(text);
  }
  const blobs = deps.files ?? diskBlobStore(deps.dataDir);
  await blobs.put(files.card, card.bytes, { contentType: `image/${output.encoding}` });
  return {
    files,
    sha256: sums,
    cardBytes: card.bytes.length,
    variants,
    fontSize: card.fontSize,
    published: { attribution: view.attribution, citation: view.source.citation, quoteText: view.quote.text },
  };
}

/**
 * Stored redaction terms by id: an id is a digest of the normalised term and its speaker, so what it
 * matches never changes and a process keeps what it has read (per store; bounded).
 */
const termCache = new WeakMap<Store, Map<string, RedactionTerm>>();
async function redactionTerms(store: Store, ids: string[]): Promise<RedactionTerm[]> {
  const cache = termCache.get(store) ?? new Map<string, RedactionTerm>();
  termCache.set(store, cache);
  const missing = ids.filter((id) => !cache.has(id));
  if (missing.length) {
    if (cache.size + missing.length > 10_000) cache.clear();
    for (const t of await store.redactions.getMany(missing)) cache.set(t.value.id, t.value);
  }
  return ids.flatMap((id) => cache.get(id) ?? []);
}

/**
 * What one output publishes, checked as the worker checks it (attribution policy, text limits, redaction
 * terms, card fit), without writing anything: the render worker and `render-preview` share it.
 */
export async function composeOutput(
  deps: Pick<RenderDeps, "store" | "templates">,
  parts: {
    quote: Quote;
    speaker: Speaker;
    campaign: Campaign;
    format: Format;
    /** The redaction terms that apply to this speaker, when the caller has them (else read here). */
    terms?: Pick<RedactionTerm, "id" | "term">[];
  },
) {
  const { store } = deps;
  const quote = { value: parts.quote };
  const speaker = { value: parts.speaker };
  const campaign = { value: parts.campaign };
  const output = {
    format: parts.format,
    locale: parts.quote.locale,
    direction: directionOf(parts.quote.locale),
    encoding: parts.campaign.encoding,
  };

  let view: ReturnType<typeof publicationView>;
  try {
    view = publicationView(quote.value, speaker.value, campaign.value, new Date());
  } catch (err) {
    if (err instanceof AttributionRefused) throw new RenderFailure(err.reason, err.message);
    throw err;
  }

  const variants: Partial<Record<TextVariant, string>> = {};
  for (const variant of campaign.value.textVariants) {
    try {
      variants[variant] = deps.templates.render(variant, view);
    } catch (err) {
      if (err instanceof TextTemplateError) throw new RenderFailure(err.reason, err.message);
      throw err;
    }
  }

  const texts = [...Object.values(variants), view.attribution, view.source.citation, view.quote.text];
  const hit = parts.terms
    ? findRedactionHit(texts, parts.terms)
    : await redactionHit(store, speaker.value, texts);
  if (hit) throw new RenderFailure("redaction", `matches redaction term ${hit.termId}`, hit.termId);

  let card: Awaited<ReturnType<typeof renderCard>>;
  try {
    card = await renderCard({
      format: output.format,
      locale: output.locale,
      direction: output.direction,
      quote: view.quote.text,
      attribution: view.attribution,
      hashtags: view.campaign.hashtags,
      brand: { ...campaign.value.brand, logoPng: await loadBrandLogo(store, campaign.value.brand) },
      encoding: output.encoding,
    });
  } catch (err) {
    if (err instanceof CardError) throw new RenderFailure(err.reason, err.message);
    throw err;
  }
  return { view, variants, card };
}
