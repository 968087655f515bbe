import { type Campaign, campaignInputSchema } from "../domain/campaign.js";
import { AppError, notFound } from "../domain/errors.js";
import type { Store } from "../store/store.js";
import { storeBrandLogo } from "./brand.service.js";

export function parseCampaign(raw: unknown, where: string) {
  const parsed = campaignInputSchema.safeParse(raw);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      where,
      field: i.path.join(".") || "campaign",
      message: i.message,
    }));
    throw new AppError(
      "invalid_input",
      `${where}: campaign not saved, ${details.length} problem(s):\n${details.map((d) => `${d.where}: ${d.field}: ${d.message}`).join("\n")}`,
      details,
    );
  }
  return parsed.data;
}

export async function createCampaign(
  store: Store,
  raw: unknown,
  actor: string,
  where = "campaign",
  now = new Date(),
): Promise<{ campaign: Campaign; created: boolean }> {
  const input = await withStoredLogo(store, parseCampaign(raw, where), where);
  const at = now.toISOString();
  const prev = await store.campaigns.get(input.id);
  if (prev) {
    const { createdAt, createdBy, updatedAt, ...before } = prev.value;
    if (JSON.stringify(before) === JSON.stringify(input)) return { campaign: prev.value, created: false };
    throw new AppError(
      "conflict",
      `campaign ${input.id} exists already with other settings; use 'campaigns update'`,
    );
  }
  const campaign: Campaign = { ...input, createdAt: at, createdBy: actor, updatedAt: at };
  await store.campaigns.commit({
    writes: [store.campaigns.write(campaign)],
    audit: [{ actor, action: "campaign.created", entity: campaign.id, at }],
  });
  return { campaign, created: true };
}

export async function updateCampaign(
  store: Store,
  raw: unknown,
  actor: string,
  where = "campaign",
  now = new Date(),
) {
  const parsed = parseCampaign(raw, where);
  const prev = await store.campaigns.get(parsed.id);
  if (!prev) throw notFound("campaign", parsed.id);
  // Only now: a refused update must not leave its logo behind in the store.
  const input = await withStoredLogo(store, parsed, where);
  const at = now.toISOString();
  // A file that does not mention `paused` keeps the campaign's state: an edit never resumes drops by accident.
  const statesPaused = typeof raw === "object" && raw !== null && "paused" in raw;
  const campaign: Campaign = {
    ...input,
    paused: statesPaused ? input.paused : prev.value.paused,
    createdAt: prev.value.createdAt,
    createdBy: prev.value.createdBy,
    updatedAt: at,
  };
  const changed = changedFields(prev.value, campaign);
  if (changed.length === 0) return prev.value;
  const pauseChange =
    campaign.paused === prev.value.paused
      ? []
      : [
          {
            actor,
            action: campaign.paused ? "campaign.paused" : "campaign.resumed",
            entity: campaign.id,
            at,
          },
        ];
  await store.campaigns.commit({
    writes: [store.campaigns.write(campaign, prev)],
    audit: [
      {
        actor,
        action: "campaign.updated",
        entity: campaign.id,
        at,
        detail: `changed: ${changed.join(", ")}`,
      },
      ...pauseChange,
    ],
  });
  return campaign;
}

/** Top-level settings that differ, for the audit trail ("changed: schedule, hashtags"). */
function changedFields(before: Campaign, after: Campaign): string[] {
  const ignore = new Set(["createdAt", "createdBy", "updatedAt"]);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => !ignore.has(k))
    .filter((k) => JSON.stringify(before[k as keyof Campaign]) !== JSON.stringify(after[k as keyof Campaign]))
    .sort();
}

export async function setPaused(store: Store, id: string, paused: boolean, actor: string, now = new Date()) {
  const prev = await store.campaigns.get(id);
  if (!prev) throw notFound("campaign", id);
  if (prev.value.paused === paused) return prev.value;
  const at = now.toISOString();
  const campaign: Campaign = { ...prev.value, paused, updatedAt: at };
  await store.campaigns.commit({
    writes: [store.campaigns.write(campaign, prev)],
    audit: [{ actor, action: paused ? "campaign.paused" : "campaign.resumed", entity: id, at }],
  });
  return campaign;
}

export async function getCampaign(store: Store, id: string): Promise<Campaign> {
  const found = await store.campaigns.get(id);
  if (!found) throw notFound("campaign", id);
  return found.value;
}

async function withStoredLogo<T extends { brand: { logo?: string } }>(
  store: Store,
  input: T,
  where: string,
): Promise<T> {
  const logo = await storeBrandLogo(store, input.brand.logo, where);
  return { ...input, brand: { ...input.brand, logo } };
}
