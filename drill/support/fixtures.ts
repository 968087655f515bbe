import type { Campaign } from "../../src/domain/campaign.js";
import type { Output, OutputState } from "../../src/domain/output.js";
import type { Quote } from "../../src/domain/quote.js";
import type { Store } from "../../src/store/store.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../../test/support/builders.js";

// The drills' data, built with the same builders as the tests.
export const CAMPAIGN_ID = "drill-campaign";

const LINES = [
  "They told us it was a holy war. It was a war for money.",
  "The emirs lived in villas while we slept in the dirt.",
  "I saw brothers kill brothers over a car.",
  "Nothing was like the videos. Nothing.",
  "The people we were told to protect were the ones we robbed.",
];

export function campaign(over: Partial<Campaign> = {}): Campaign {
  return aCampaign({
    id: CAMPAIGN_ID,
    name: "Fault drill",
    locales: ["en"],
    // Far from any real slot: a scheduler running in a drill must not fire an export of its own.
    schedule: { cron: "0 9 1 1 *", timeZone: "UTC" },
    exposure: { maxPerSpeakerPerDrop: 1000 },
    createdBy: "drill",
    ...over,
  });
}

export function quote(id: string, speakerId: string, i: number): Quote {
  return aQuote(id, speakerId, {
    text: `${LINES[i % LINES.length]} (${i + 1})`,
    narrative: (["corruption", "brutality", "infighting", "disillusionment"] as const)[i % 4]!,
  });
}

/** The campaign, `speakers` speakers and `n` vetted quotes spread over them. */
export async function seed(
  store: Store,
  opts: { quotes: number; speakers?: number; campaign?: Partial<Campaign> },
) {
  const speakers = Array.from({ length: opts.speakers ?? 4 }, (_, i) => aSpeaker(`s${i + 1}`));
  const quotes = Array.from({ length: opts.quotes }, (_, i) =>
    quote(`q${i + 1}`, speakers[i % speakers.length]!.id, i),
  );
  await saveAll(store, { campaigns: [campaign(opts.campaign)], speakers, quotes });
  return { speakers, quotes };
}

/** Outputs as the render worker leaves them, in `status`: lets review and export drills skip the renderer. */
export async function outputsFor(
  store: Store,
  dataDir: string,
  quotes: Quote[],
  opts: { status: OutputState; queuedBy: string; approvedAt?: (i: number) => string },
): Promise<Output[]> {
  const outputs: Output[] = [];
  for (const [i, q] of quotes.entries()) {
    outputs.push(
      await anOutput(store, dataDir, q, {
        campaignId: CAMPAIGN_ID,
        status: opts.status,
        queuedBy: opts.queuedBy,
        approvedAt: opts.approvedAt?.(i),
      }),
    );
  }
  return outputs;
}

/** `output.<action>` audit entries per output id. */
export async function auditCounts(store: Store, action: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const a of await store.audit.list({ limit: Number.MAX_SAFE_INTEGER })) {
    if (a.action === action) counts.set(a.entity, (counts.get(a.entity) ?? 0) + 1);
  }
  return counts;
}

/** `{ value: n, ... }` histogram as "1×20, 2×1" style text. */
export function histogram(values: (string | number)[]): string {
  const h = new Map<string, number>();
  for (const v of values) h.set(String(v), (h.get(String(v)) ?? 0) + 1);
  return (
    [...h.entries()]
      .sort()
      .map(([k, n]) => `${k}×${n}`)
      .join(", ") || "none"
  );
}
