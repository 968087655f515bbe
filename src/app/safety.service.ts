import { checkText } from "../domain/clean-text.js";
import { AppError, notFound } from "../domain/errors.js";
import { move, type Output } from "../domain/output.js";
import {
  findRedactionHit,
  type RedactionTerm,
  redactionTermId,
  redactionTermText,
} from "../domain/redaction.js";
import type { Speaker } from "../domain/speaker.js";
import type { AuditEntry } from "../store/audit.store.js";
import type { RawOp } from "../store/commit.js";
import type { Store } from "../store/store.js";
import { retryOnConflict } from "./retry.js";

/** A global term (no speaker) or one speaker's. The audit trail names the term's id, never the term. */
export async function addRedaction(
  store: Store,
  term: string,
  actor: string,
  speakerId?: string,
  now = new Date(),
) {
  const parsed = redactionTermText.safeParse(term);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? "invalid";
    throw new AppError("invalid_input", `redaction term: ${message}`, [{ field: "term", message }]);
  }
  const clean = parsed.data;
  if (speakerId && !(await store.speakers.get(speakerId))) throw notFound("speaker", speakerId);
  const id = redactionTermId(clean, speakerId);
  if (await store.redactions.get(id)) return { id, created: false };
  const at = now.toISOString();
  const entry: RedactionTerm = { id, term: clean, speakerId, createdAt: at, createdBy: actor };
  await store.redactions.commit({
    writes: [store.redactions.write(entry)],
    audit: [
      {
        actor,
        action: "redaction.added",
        entity: id,
        at,
        detail: speakerId ? `speaker ${speakerId}` : "global",
      },
    ],
  });
  return { id, created: true };
}

/** Stored terms (global first, then per speaker), each with the speaker's pseudonym. */
export async function listRedactions(store: Store) {
  const [terms, speakers] = await Promise.all([store.redactions.list(), store.speakers.list()]);
  const names = new Map(speakers.map((s) => [s.id, s.pseudonym]));
  return terms
    .map((t) => ({ ...t, speakerPseudonym: t.speakerId ? names.get(t.speakerId) : undefined }))
    .sort(
      (a, b) =>
        Number(Boolean(a.speakerId)) - Number(Boolean(b.speakerId)) ||
        (a.speakerPseudonym ?? "").localeCompare(b.speakerPseudonym ?? "") ||
        a.term.localeCompare(b.term) ||
        a.id.localeCompare(b.id),
    );
}

/**
 * Removes a stored term by its id (`redactions list` shows ids); outputs that failed on it stay
 * failed until retried. The audit trail names the id and scope, never the term. Terms written in a
 * speaker's own record are part of that record and are not removed here.
 */
export async function removeRedaction(store: Store, id: string, actor: string, now = new Date()) {
  const found = await store.redactions.get(id);
  if (!found) throw notFound("redaction term", id);
  const speakerId = found.value.speakerId;
  await store.redactions.commit({
    writes: [],
    ops: store.redactions.removal(found),
    audit: [
      {
        actor,
        action: "redaction.removed",
        entity: id,
        at: now.toISOString(),
        detail: speakerId ? `speaker ${speakerId}` : "global",
      },
    ],
  });
  return { id, speakerId };
}

/** Global terms, the speaker's stored terms and the speaker's own record's terms. */
export async function termsFor(
  store: Store,
  speaker: Speaker,
  stored?: RedactionTerm[],
): Promise<Pick<RedactionTerm, "id" | "term">[]> {
  const all = stored ?? (await store.redactions.list());
  const own = speaker.redactionTerms.map((term) => ({ id: redactionTermId(term, speaker.id), term }));
  return [...all.filter((t) => !t.speakerId || t.speakerId === speaker.id), ...own];
}

export async function redactionHit(store: Store, speaker: Speaker, texts: string[]) {
  return findRedactionHit(texts, await termsFor(store, speaker));
}

/** Every text that leaves with an output: its variants and what its manifest entry prints. */
export const publishedTexts = (o: Output) => [
  ...Object.values(o.variants ?? {}),
  o.published?.attribution ?? "",
  o.published?.citation ?? "",
  o.published?.quoteText ?? "",
];

const NOT_YET_OUT = new Set(["queued", "rendering", "in_review", "approved", "rejected", "failed"]);

/**
 * Consent withdrawn: every output of the speaker not yet exported becomes `withdrawn` at once (so it
 * leaves review and is never exported); every output already dropped goes on its campaign's takedown
 * list, which each later bundle carries until someone acknowledges it. Retries on conflicts with
 * renders, reviews and drops running at the same moment.
 */
export async function withdrawConsent(
  store: Store,
  speakerId: string,
  actor: string,
  reason?: string,
  now?: Date,
) {
  if (reason !== undefined) reason = checkText(reason, "multiline", "reason");
  return retryOnConflict(
    async () => {
      const speaker = await store.speakers.get(speakerId);
      if (!speaker) throw notFound("speaker", speakerId);
      const outputs = await store.outputs.getMany(await store.outputs.ids([`speaker:${speakerId}`]));
      // Read the clock on each try: a drop that committed during an earlier try is then earlier too.
      const at = (now ?? new Date()).toISOString();
      const pending = outputs.filter((v) => NOT_YET_OUT.has(v.value.status));
      const dropped = outputs.filter((v) => v.value.status === "exported");
      const ops: RawOp[] = dropped.map((v) => ["SADD", store.takedownsKey(v.value.campaignId), v.value.id]);
      const consent = {
        state: "withdrawn" as const,
        recordedBy: speaker.value.consent?.recordedBy ?? actor,
        recordedAt: speaker.value.consent?.recordedAt ?? at,
        scope: speaker.value.consent?.scope ?? { locales: [], channels: [] },
        expiresAt: speaker.value.consent?.expiresAt,
        withdrawnBy: actor,
        withdrawnAt: at,
      };
      const audit: AuditEntry[] = [
        {
          actor,
          action: "speaker.consent_withdrawn",
          entity: speakerId,
          from: speaker.value.consent?.state ?? "none",
          to: "withdrawn",
          at,
          detail: reason,
        },
        ...pending.map((v) => ({
          actor,
          action: "output.withdrawn",
          entity: v.value.id,
          from: v.value.status,
          to: "withdrawn",
          at,
        })),
        ...dropped.map((v) => ({
          actor,
          action: "output.takedown_requested",
          entity: v.value.id,
          at,
          detail: v.value.campaignId,
        })),
      ];
      await store.speakers.commit({
        writes: [
          store.speakers.write({ ...speaker.value, consent }, speaker),
          ...pending.map((v) => store.outputs.write(move(v.value, "withdrawn", at, { withdrawnAt: at }), v)),
        ],
        ops,
        audit,
      });
      return { withdrawn: pending.length, takedowns: dropped.length };
    },
    { tries: 20, exhausted: `could not withdraw ${speakerId}: outputs kept changing; try again` },
  );
}

/**
 * What `withdrawConsent` would do now, changing nothing: the outputs it would withdraw and the
 * takedowns it would request, per campaign. The same split as the withdrawal itself.
 */
export async function withdrawalPreview(store: Store, speakerId: string) {
  const speaker = await store.speakers.get(speakerId);
  if (!speaker) throw notFound("speaker", speakerId);
  const outputs = await store.outputs.getMany(await store.outputs.ids([`speaker:${speakerId}`]));
  const pending = outputs.filter((v) => NOT_YET_OUT.has(v.value.status));
  const dropped = outputs.filter((v) => v.value.status === "exported");
  const perCampaign = new Map<string, number>();
  for (const v of dropped)
    perCampaign.set(v.value.campaignId, (perCampaign.get(v.value.campaignId) ?? 0) + 1);
  return {
    speaker: speaker.value,
    withdrawn: pending.length,
    takedowns: dropped.length,
    takedownsByCampaign: [...perCampaign].map(([campaignId, n]) => ({ campaignId, n })),
  };
}

/** Consent that expires acts as a withdrawal once its date passes; run before every drop. */
export async function expireConsents(store: Store, now = new Date()) {
  const speakers = await store.speakers.list(["consent:granted"]);
  const expired = speakers.filter(
    (s) => s.consent?.expiresAt && Date.parse(s.consent.expiresAt) <= now.getTime(),
  );
  for (const s of expired)
    await withdrawConsent(store, s.id, "consent-expiry", `consent expired ${s.consent!.expiresAt}`, now);
  return expired.map((s) => s.id);
}

export async function pendingTakedowns(store: Store, campaignId: string): Promise<string[]> {
  return (await store.redis.smembers(store.takedownsKey(campaignId))).sort();
}

export async function ackTakedowns(
  store: Store,
  campaignId: string,
  ids: string[],
  actor: string,
  now = new Date(),
) {
  const pending = new Set(await pendingTakedowns(store, campaignId));
  const unknown = ids.filter((id) => !pending.has(id));
  if (unknown.length) {
    throw new AppError(
      "invalid_input",
      `not pending takedowns of ${campaignId}: ${unknown.join(", ")}`,
      unknown.map((id) => ({ field: "id", message: `${id} is not a pending takedown` })),
    );
  }
  const at = now.toISOString();
  await store.outputs.commit({
    writes: [],
    ops: ids.map((id) => ["SREM", store.takedownsKey(campaignId), id] as RawOp),
    audit: ids.map((id) => ({
      actor,
      action: "output.takedown_acknowledged",
      entity: id,
      at,
      detail: campaignId,
    })),
  });
  return ids.length;
}
