import { type Campaign, campaignInputSchema } from "../domain/campaign.js";
import { deliveryTargets } from "../domain/delivery.js";
import { AppError, notFound } from "../domain/errors.js";
import { createDeliveryStore } from "../store/delivery.store.js";
import type { Store } from "../store/store.js";
import { storeBrandLogo } from "./brand.service.js";
import { newWebhookSecret } from "./webhook.js";

/** A webhook target's signing secret, in the one answer that creates (or rotates) it: never again. */
export type NewWebhookSecret = { target: string; url: string; secret: string };

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
): Promise<{ campaign: Campaign; created: boolean; newSecrets: NewWebhookSecret[] }> {
  const input = await withStoredLogo(store, parseCampaign(raw, where), where);
  const at = now.toISOString();
  const prev = await store.campaigns.get(input.id);
  if (prev) {
    const { createdAt, createdBy, updatedAt, ...rest } = prev.value;
    // Stored before delivery targets existed: the same as the default.
    const before = { ...rest, delivery: deliveryTargets(rest) };
    if (JSON.stringify(before) === JSON.stringify(input))
      return { campaign: prev.value, created: false, newSecrets: [] };
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
  return { campaign, created: true, newSecrets: await issueWebhookSecrets(store, campaign) };
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
  // Likewise `delivery`: a form or file that leaves targets out keeps them (and their secrets).
  const statesDelivery = typeof raw === "object" && raw !== null && "delivery" in raw;
  const campaign: Campaign = {
    ...input,
    delivery: statesDelivery ? input.delivery : deliveryTargets(prev.value),
    paused: statesPaused ? input.paused : prev.value.paused,
    createdAt: prev.value.createdAt,
    createdBy: prev.value.createdBy,
    updatedAt: at,
  };
  const changed = changedFields({ ...prev.value, delivery: deliveryTargets(prev.value) }, campaign);
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
  const newSecrets = await issueWebhookSecrets(store, campaign, prev.value);
  return newSecrets.length ? { ...campaign, newSecrets } : campaign;
}

/**
 * Every webhook target without a secret gets one (generated here, kept in Redis apart from the
 * campaign); a removed target's secret is deleted. Returns the new ones, to be shown once.
 */
async function issueWebhookSecrets(
  store: Store,
  campaign: Campaign,
  before?: Campaign,
): Promise<NewWebhookSecret[]> {
  const deliveries = createDeliveryStore(store);
  const now = new Set(deliveryTargets(campaign).map((t) => `${t.type}:${t.id}`));
  for (const t of before ? deliveryTargets(before) : []) {
    if (t.type === "webhook" && !now.has(`webhook:${t.id}`)) await deliveries.removeSecret(campaign.id, t.id);
  }
  const out: NewWebhookSecret[] = [];
  for (const t of deliveryTargets(campaign)) {
    if (t.type !== "webhook") continue;
    const secret = newWebhookSecret();
    if (await deliveries.createSecret(campaign.id, t.id, secret))
      out.push({ target: t.id, url: t.url, secret });
  }
  return out;
}

/** A new secret for a webhook target; the old one keeps signing beside it for 24 h. Shown once. */
export async function rotateWebhookSecret(
  store: Store,
  campaignId: string,
  targetId: string,
  actor: string,
  now = new Date(),
): Promise<NewWebhookSecret> {
  const campaign = await getCampaign(store, campaignId);
  const target = deliveryTargets(campaign).find((t) => t.id === targetId);
  if (target?.type !== "webhook") {
    throw new AppError("not_found", `campaign ${campaignId} has no webhook target ${targetId}`, [
      { field: "target", message: "no such webhook target" },
    ]);
  }
  const secret = newWebhookSecret();
  await createDeliveryStore(store).rotateSecret(
    campaignId,
    targetId,
    secret,
    new Date(now.getTime() + 24 * 3600 * 1000),
  );
  // The audit says that it happened, never the secret.
  await store.audit.append({
    actor,
    action: "campaign.webhook_secret_rotated",
    entity: campaignId,
    at: now.toISOString(),
    detail: targetId,
  });
  return { target: targetId, url: target.url, secret };
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
