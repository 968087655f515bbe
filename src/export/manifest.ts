import type { Campaign, TextVariant } from "../domain/campaign.js";
import type { Output } from "../domain/output.js";
import type { Quote } from "../domain/quote.js";

export type ManifestFile = { path: string; sha256: string };

export type ManifestOutput = {
  id: string;
  format: string;
  locale: string;
  direction: string;
  narrative: string;
  files: ManifestFile[];
  text: Partial<Record<TextVariant, string>>;
  altText: string | null;
  source: { title: string; publisher: string; url: string | null; publishedAt: string; citation: string };
  attribution: string;
  approvedBy: string;
  approvedAt: string;
};

export type Manifest = {
  schema: "testimony.bundle/1";
  bundle: string;
  campaign: { id: string; name: string };
  slot: string;
  outputs: ManifestOutput[];
  /** Outputs dropped earlier whose speaker has since withdrawn consent: take them down. */
  takedowns: { outputId: string; action: "take down" }[];
};

export const cardEntryName = (o: Output) => `cards/${o.id}.${o.encoding === "jpeg" ? "jpg" : o.encoding}`;
export const textEntryName = (o: Output, variant: TextVariant) => `text/${o.id}.${variant}.txt`;

export function lastApproval(o: Output) {
  const d = [...o.decisions].reverse().find((x) => x.decision === "approved");
  if (!d) throw new Error(`output ${o.id} has no approval`);
  return d;
}

/**
 * What leaves testimony about each output: only its published view (attribution as printed, citation),
 * never a speaker id or private field. `generatedAt` is left out so equal bundles have equal bytes.
 */
export function buildManifest(input: {
  bundleId: string;
  campaign: Campaign;
  slot: string;
  outputs: { output: Output; quote: Quote }[];
  takedowns: string[];
}): Manifest {
  const outputs = input.outputs
    .map(({ output: o, quote: q }) => manifestOutput(o, q))
    .sort((a, b) => compareIds(a.id, b.id));
  return {
    schema: "testimony.bundle/1",
    bundle: input.bundleId,
    campaign: { id: input.campaign.id, name: input.campaign.name },
    slot: input.slot,
    outputs,
    takedowns: [...input.takedowns].sort().map((outputId) => ({ outputId, action: "take down" as const })),
  };
}

/** One output's entry in the manifest (the `outputs` list is sorted by id, `compareIds`). */
export function manifestOutput(o: Output, q: Quote): ManifestOutput {
  const approval = lastApproval(o);
  const files: ManifestFile[] = [{ path: cardEntryName(o), sha256: o.sha256![o.files!.card]! }];
  for (const [variant, rel] of Object.entries(o.files?.text ?? {}) as [TextVariant, string][]) {
    files.push({ path: textEntryName(o, variant), sha256: o.sha256![rel]! });
  }
  return {
    id: o.id,
    format: o.format,
    locale: o.locale,
    direction: o.direction,
    narrative: o.narrative,
    files: files.sort((a, b) => a.path.localeCompare(b.path)),
    text: o.variants ?? {},
    altText: o.variants?.alt_text ?? null,
    source: {
      title: q.source.title,
      publisher: q.source.publisher,
      url: q.source.url ?? null,
      publishedAt: q.source.publishedAt,
      citation: o.published!.citation,
    },
    attribution: o.published!.attribution,
    approvedBy: approval.by,
    approvedAt: approval.at,
  };
}

/** The order of the manifest's outputs. */
export const compareIds = (a: string, b: string) => a.localeCompare(b);
