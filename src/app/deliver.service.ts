import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Queue } from "bullmq";
import type { Bundle } from "../domain/bundle.js";
import type { Campaign } from "../domain/campaign.js";
import {
  type DeliveryAttempt,
  deliveryTargets,
  type S3Target,
  summariseDelivery,
  type TargetDelivery,
  targetsFor,
  type WebhookEventType,
  type WebhookTarget,
} from "../domain/delivery.js";
import { AppError, notFound } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { deliverJobId, type JobMap } from "../queues/queues.js";
import type { BlobStore } from "../storage/index.js";
import { S3Error, s3BlobStore } from "../storage/s3.js";
import type { AuditRecord } from "../store/audit.store.js";
import { createDeliveryStore } from "../store/delivery.store.js";
import { signingKey } from "../store/signing-key.store.js";
import type { Store } from "../store/store.js";
import { signDownloadToken } from "./download.service.js";
import { pendingTakedowns } from "./safety.service.js";
import { sendWebhook, type WebhookEvent } from "./webhook.js";

export type DeliverJob = JobMap["deliver"];
export type DeliverQueue = Pick<Queue<DeliverJob>, "add" | "getJob">;

export type DeliverDeps = {
  store: Store;
  exportDir: string;
  /** With S3 storage, where bundles are; otherwise EXPORT_DIR. */
  bundles?: BlobStore;
  log: Logger;
  /** PUBLIC_URL: the base of the signed download link in bundle.dropped. */
  publicUrl: string;
  /** An environment variable's value by name (config.namedSecret): an S3 target's credentials. */
  namedSecret: (name: string) => string | undefined;
};

/** A delivery that did not happen; `permanent`: retrying cannot help (a wrong secret, a missing target). */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = "DeliveryFailure";
  }
}

/** Where a delivery's attempts are recorded: the bundle for bundle.dropped, else the event itself. */
export const attemptSubject = (j: Pick<DeliverJob, "event" | "subject" | "seq">) =>
  j.event === "bundle.dropped" ? j.subject : `${j.event}-${j.subject}-${j.seq ?? "0"}`;

/** One job per target that takes the event; a job id per event and target, so adding twice adds once. */
export async function enqueueEvent(
  queue: DeliverQueue,
  campaign: Pick<Campaign, "id" | "delivery">,
  event: WebhookEventType,
  subject: string,
  extra: { seq?: string; outputIds?: string[] } = {},
): Promise<number> {
  let n = 0;
  for (const t of targetsFor(campaign, event)) {
    const data: DeliverJob = { event, campaignId: campaign.id, targetId: t.id, subject, ...extra };
    await queue.add(event, data, { jobId: deliverJobId(data) });
    n++;
  }
  return n;
}

/** After a bundle is complete: one bundle.dropped job per target of its campaign. */
export async function enqueueBundleDeliveries(
  store: Store,
  queue: DeliverQueue,
  bundle: Pick<Bundle, "id" | "campaignId">,
): Promise<number> {
  const campaign = (await store.campaigns.get(bundle.campaignId))?.value;
  return campaign ? enqueueEvent(queue, campaign, "bundle.dropped", bundle.id) : 0;
}

/**
 * One attempt of one delivery. Records it (target, attempt, status, error, at) whatever happens; throws
 * DeliveryFailure when it did not happen. No secret reaches the record, the log or the error.
 */
export async function deliver(
  deps: DeliverDeps,
  job: DeliverJob,
  attempt: { number: number; final: boolean },
  now = () => new Date(),
): Promise<"delivered"> {
  const { store } = deps;
  const deliveries = createDeliveryStore(store);
  const subject = attemptSubject(job);
  const log = deps.log.child({ event: job.event, campaignId: job.campaignId, target: job.targetId, subject });
  const campaign = (await store.campaigns.get(job.campaignId))?.value;
  const target = campaign ? deliveryTargets(campaign).find((t) => t.id === job.targetId) : undefined;
  const type = target?.type === "s3" ? "s3" : "webhook";
  const record = (a: Omit<DeliveryAttempt, "target" | "type" | "event" | "attempt" | "at">) =>
    deliveries.recordAttempt(subject, {
      target: job.targetId,
      type,
      event: job.event,
      attempt: attempt.number,
      ...a,
      at: now().toISOString(),
    });
  try {
    if (!campaign || !target || target.type === "folder") {
      throw new DeliveryFailure(
        `campaign ${job.campaignId} has no delivery target ${job.targetId} any more`,
        true,
      );
    }
    let httpStatus: number | undefined;
    if (target.type === "s3") await deliverToS3(deps, target, job);
    else httpStatus = await deliverWebhook(deps, campaign, target, job, now);
    await record({ status: "delivered", httpStatus });
    log.info({ attempt: attempt.number }, "delivered");
    return "delivered";
  } catch (err) {
    const f =
      err instanceof DeliveryFailure
        ? err
        : new DeliveryFailure(`${job.targetId}: ${(err as Error).message}`, false);
    const last = f.permanent || attempt.final;
    await record({ status: last ? "failed" : "retrying", httpStatus: f.httpStatus, error: f.message });
    if (last) {
      log.error({ attempt: attempt.number, error: f.message }, "delivery failed: no more attempts");
      await store.audit.append({
        actor: "deliver-worker",
        action: "delivery.failed",
        entity: job.event === "bundle.dropped" ? job.subject : job.campaignId,
        at: now().toISOString(),
        detail: `${job.event} to ${job.targetId} after ${attempt.number} attempt(s): ${f.message}`,
      });
    } else {
      log.warn({ attempt: attempt.number, error: f.message }, "delivery attempt failed; retrying");
    }
    throw f;
  }
}

/** A complete bundle of the campaign, or a permanent failure. */
async function completeBundle(store: Store, id: string): Promise<Bundle> {
  const b = (await store.bundles.get(id))?.value;
  if (b?.status !== "complete") {
    throw new DeliveryFailure(`bundle ${id} is ${b?.status ?? "missing"}, not complete`, true);
  }
  return b;
}

/** A file of a bundle's folder, from S3 bundle storage or EXPORT_DIR, as a stream with its size. */
async function openBundleFile(
  deps: DeliverDeps,
  bundle: Bundle,
  name: string,
): Promise<{ stream: Readable; size: number }> {
  const key = `${bundle.dir}/${name}`;
  if (deps.bundles) {
    const size = await deps.bundles.size(key);
    if (size === undefined) throw new DeliveryFailure(`${deps.bundles.where(key)} is missing`, false);
    return { stream: await deps.bundles.stream(key), size };
  }
  const file = path.join(deps.exportDir, bundle.dir, name);
  const size = await stat(file).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined) throw new DeliveryFailure(`${name} of bundle ${bundle.id} is missing`, false);
  return { stream: createReadStream(file), size };
}

async function readSidecar(deps: DeliverDeps, bundle: Bundle): Promise<Buffer> {
  if (deps.bundles) return deps.bundles.get(`${bundle.dir}/manifest.json`);
  return readFile(path.join(deps.exportDir, bundle.dir, "manifest.json"));
}

/** The in-zip manifest's bytes, from the sidecar: the same object without generatedAt and zip. */
export function inZipManifest(sidecar: Buffer): Buffer {
  const {
    generatedAt: _g,
    zip: _z,
    ...manifest
  } = JSON.parse(sidecar.toString("utf8")) as Record<string, unknown>;
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

const REFUSED = new Set(["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "NoSuchBucket"]);

/**
 * The zip and both manifests into the target's bucket: `<prefix><campaign>/<slot>/bundle.zip`,
 * `bundle-manifest.json` (the manifest inside the zip) and last `manifest.json` (the sidecar), so a
 * sidecar there means the rest is. Credentials come from the environment variables the target names.
 */
async function deliverToS3(deps: DeliverDeps, t: S3Target, job: DeliverJob): Promise<void> {
  if (job.event !== "bundle.dropped") throw new DeliveryFailure(`s3 target ${t.id} takes bundles only`, true);
  const bundle = await completeBundle(deps.store, job.subject);
  const creds = [t.accessKeyIdEnv, t.secretAccessKeyEnv].map((name) => {
    const v = deps.namedSecret(name);
    if (!v) {
      throw new DeliveryFailure(
        `s3 target ${t.id}: environment variable ${name} is not set for the deliver worker`,
        true,
      );
    }
    return v;
  });
  const region = t.region ?? "us-east-1";
  const dest = s3BlobStore({
    bucket: t.bucket,
    prefix: t.prefix,
    endpoint: (t.endpoint ?? `https://s3.${region}.amazonaws.com`).replace(/\/$/, ""),
    region,
    accessKeyId: creds[0]!,
    secretAccessKey: creds[1]!,
  });
  try {
    const zip = await openBundleFile(deps, bundle, "bundle.zip");
    await dest.put(`${bundle.dir}/bundle.zip`, zip.stream, {
      size: zip.size,
      contentType: "application/zip",
    });
    const sidecar = await readSidecar(deps, bundle);
    await dest.put(`${bundle.dir}/bundle-manifest.json`, inZipManifest(sidecar), {
      contentType: "application/json",
    });
    await dest.put(`${bundle.dir}/manifest.json`, sidecar, { contentType: "application/json" });
  } catch (err) {
    if (err instanceof S3Error && err.code && REFUSED.has(err.code)) {
      const why =
        err.code === "NoSuchBucket"
          ? `bucket ${t.bucket} does not exist`
          : `refused (${err.code}): check the credentials in ${t.accessKeyIdEnv} and ${t.secretAccessKeyEnv}`;
      throw new DeliveryFailure(
        `s3 target ${t.id}: s3://${t.bucket}/${t.prefix}${bundle.dir}/: ${why}`,
        true,
      );
    }
    if (err instanceof DeliveryFailure) throw err;
    throw new DeliveryFailure(`s3 target ${t.id}: ${(err as Error).message}`, false);
  }
}

/** The event's body for this job: ids, counts, a signed link; never a speaker's private field. */
async function webhookEvent(
  deps: DeliverDeps,
  campaign: Campaign,
  t: WebhookTarget,
  job: DeliverJob,
  now: Date,
): Promise<WebhookEvent> {
  const { store } = deps;
  const base = { type: job.event, timestamp: now.toISOString() };
  if (job.event === "bundle.dropped") {
    const bundle = await completeBundle(store, job.subject);
    const sidecar = await readSidecar(deps, bundle);
    const expiresAt = new Date(now.getTime() + t.linkTtlSeconds * 1000);
    const token = signDownloadToken(await signingKey(store, "download-links"), bundle.id, expiresAt);
    return {
      ...base,
      data: {
        bundleId: bundle.id,
        campaign: campaign.id,
        campaignName: campaign.name,
        slot: bundle.slot,
        url: `${deps.publicUrl.replace(/\/$/, "")}/d/${token}`,
        expiresAt: expiresAt.toISOString(),
        manifestSha256: createHash("sha256").update(sidecar).digest("hex"),
        zipSha256: bundle.zipSha256,
        bytes: bundle.bytes,
        counts: { outputs: bundle.outputIds.length, takedowns: bundle.takedowns.length },
      },
    };
  }
  if (job.event === "takedowns.pending") {
    return {
      ...base,
      data: {
        campaign: campaign.id,
        requested: job.outputIds ?? [],
        pending: await pendingTakedowns(store, campaign.id),
      },
    };
  }
  const o = (await store.outputs.get(job.subject))?.value;
  if (!o) throw new DeliveryFailure(`output ${job.subject} does not exist`, true);
  return {
    ...base,
    data: {
      outputId: o.id,
      campaign: campaign.id,
      quoteId: o.quoteId,
      format: o.format,
      locale: o.locale,
      status: o.status,
      reason: o.failure?.reason,
      failedAt: o.failure?.at,
    },
  };
}

async function deliverWebhook(
  deps: DeliverDeps,
  campaign: Campaign,
  t: WebhookTarget,
  job: DeliverJob,
  now: () => Date,
): Promise<number> {
  const secrets = await createDeliveryStore(deps.store).signingSecrets(campaign.id, t.id, now());
  if (secrets.length === 0) {
    throw new DeliveryFailure(
      `webhook ${t.id} has no signing secret: rotate it (testimony campaigns rotate-secret ${campaign.id} ${t.id})`,
      true,
    );
  }
  const event = await webhookEvent(deps, campaign, t, job, now());
  // The same message id on every attempt, so a receiver can drop a duplicate.
  const msgId = `msg_${createHash("sha256").update(deliverJobId(job)).digest("base64url").slice(0, 27)}`;
  const r = await sendWebhook(t.url, secrets, msgId, event, now());
  // The origin only: a URL's path or query may itself be a credential.
  if (!r.ok)
    throw new DeliveryFailure(`webhook ${t.id} (${new URL(t.url).origin}): ${r.error}`, false, r.status);
  return r.status;
}

/**
 * Raises events from the audit stream (written in the same commit as the change, so none is lost to a
 * crash between the change and the enqueue): bundle.complete → bundle.dropped, output.failed →
 * output.failed, output.takedown_requested → one takedowns.pending per campaign and commit.
 */
export async function relayAuditEntries(
  store: Store,
  queue: DeliverQueue,
  entries: AuditRecord[],
): Promise<number> {
  const campaigns = new Map<string, Campaign | undefined>();
  const campaign = async (id: string) => {
    if (!campaigns.has(id)) campaigns.set(id, (await store.campaigns.get(id))?.value);
    return campaigns.get(id);
  };
  let added = 0;
  const takedowns = new Map<string, { seq: string; ids: string[] }>();
  for (const e of entries) {
    if (e.action === "bundle.complete") {
      const b = (await store.bundles.get(e.entity))?.value;
      const c = b && (await campaign(b.campaignId));
      if (c) added += await enqueueEvent(queue, c, "bundle.dropped", e.entity);
    } else if (e.action === "output.failed") {
      const o = (await store.outputs.get(e.entity))?.value;
      const c = o && (await campaign(o.campaignId));
      if (c) added += await enqueueEvent(queue, c, "output.failed", e.entity, { seq: e.seq });
    } else if (e.action === "output.takedown_requested" && e.detail) {
      const t = takedowns.get(e.detail) ?? { seq: e.seq, ids: [] };
      t.ids.push(e.entity);
      takedowns.set(e.detail, t);
    }
  }
  for (const [campaignId, t] of takedowns) {
    const c = await campaign(campaignId);
    if (c)
      added += await enqueueEvent(queue, c, "takedowns.pending", campaignId, {
        seq: t.seq,
        outputIds: t.ids,
      });
  }
  return added;
}

/**
 * Follows the audit stream (from where it stood when first started) and enqueues delivery jobs; every
 * process that runs a deliver worker runs one, and job ids keep their additions to one per event.
 */
export function startDeliveryRelay(deps: {
  store: Store;
  queue: DeliverQueue;
  log: Logger;
  intervalMs?: number;
}): { close(): Promise<void> } {
  const deliveries = createDeliveryStore(deps.store);
  const interval = deps.intervalMs ?? 1000;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let failing = false;
  const tick = async () => {
    let full = false;
    try {
      const cursor = await deliveries.relayCursor();
      const batch = await deliveries.auditAfter(cursor, 500);
      if (batch.length) {
        await relayAuditEntries(deps.store, deps.queue, batch);
        await deliveries.setRelayCursor(batch[batch.length - 1]!.seq);
      }
      full = batch.length === 500;
      if (failing) deps.log.info("delivery relay reads the audit stream again");
      failing = false;
    } catch (err) {
      // Logged once per outage; the next tick tries again from the same place.
      if (!failing)
        deps.log.warn({ err: (err as Error).message }, "delivery relay: cannot read events; retrying");
      failing = true;
    }
    if (!closed) timer = setTimeout(run, full ? 0 : interval);
  };
  const run = () => {
    running = tick();
  };
  run();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type BundleDelivery = ReturnType<typeof summariseDelivery>;

/** Delivery state of complete bundles (others have none), in two round trips. */
export async function bundleDeliveries(
  store: Store,
  bundles: Bundle[],
): Promise<Map<string, BundleDelivery>> {
  const complete = bundles.filter((b) => b.status === "complete");
  const campaignIds = [...new Set(complete.map((b) => b.campaignId))];
  const campaigns = new Map(
    (await store.campaigns.getMany(campaignIds)).map((c) => [c.value.id, c.value] as const),
  );
  const attempts = await createDeliveryStore(store).attemptsMany(complete.map((b) => b.id));
  const out = new Map<string, BundleDelivery>();
  for (const b of complete) {
    const c = campaigns.get(b.campaignId);
    out.set(b.id, summariseDelivery(c ? deliveryTargets(c) : [], attempts.get(b.id) ?? []));
  }
  return out;
}

/**
 * Delivers a complete bundle again: to the targets named, or to every target whose delivery failed.
 * The old job (failed or done) is removed and a new one added under the same id; a delivery still
 * under way is left alone (conflict).
 */
export async function redeliver(
  store: Store,
  queue: DeliverQueue,
  bundleId: string,
  actor: string,
  only?: string[],
): Promise<{ bundleId: string; targets: string[] }> {
  const b = /^b-[a-z0-9_-]+-\d+$/.test(bundleId) ? (await store.bundles.get(bundleId))?.value : undefined;
  if (!b) throw notFound("bundle", bundleId);
  if (b.status !== "complete") {
    throw new AppError(
      "invalid_state",
      `bundle ${bundleId} is ${b.status}: only a complete bundle is delivered`,
    );
  }
  const summary = (await bundleDeliveries(store, [b])).get(b.id)!;
  let chosen: TargetDelivery[];
  if (only?.length) {
    chosen = only.map((id) => {
      const t = summary.targets.find((x) => x.target === id);
      if (!t) {
        throw new AppError("not_found", `bundle ${bundleId}'s campaign has no delivery target ${id}`, [
          {
            field: "target",
            message: `not one of: ${summary.targets.map((x) => x.target).join(", ") || "none"}`,
          },
        ]);
      }
      return t;
    });
  } else {
    chosen = summary.targets.filter((t) => t.status === "failed");
    if (chosen.length === 0) {
      throw new AppError(
        "invalid_state",
        `bundle ${bundleId} has no failed delivery; name a target to deliver it again`,
      );
    }
  }
  for (const t of chosen) {
    const data: DeliverJob = {
      event: "bundle.dropped",
      campaignId: b.campaignId,
      targetId: t.target,
      subject: b.id,
    };
    const id = deliverJobId(data);
    const old = await queue.getJob(id);
    if (old) {
      const state = await old.getState();
      if (state !== "failed" && state !== "completed" && state !== "unknown") {
        throw new AppError("conflict", `the delivery of ${bundleId} to ${t.target} is under way (${state})`);
      }
      await old.remove();
    }
    await queue.add("bundle.dropped", data, { jobId: id });
  }
  await store.audit.append({
    actor,
    action: "bundle.redelivery",
    entity: b.id,
    at: new Date().toISOString(),
    detail: chosen.map((t) => t.target).join(", "),
  });
  return { bundleId: b.id, targets: chosen.map((t) => t.target) };
}
