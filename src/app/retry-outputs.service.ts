import { AppError, notFound } from "../domain/errors.js";
import { move, type Output } from "../domain/output.js";
import type { Queues } from "../queues/queues.js";
import type { Versioned } from "../store/entity.repo.js";
import type { Store } from "../store/store.js";

export type RetryResult = {
  id: string;
  ok: boolean;
  status?: Output["status"];
  /** Why it had failed, for the person who retried it. */
  was?: { reason: string; message: string };
  error?: { code: string; message: string };
};

/** A render job id the failed job (kept by BullMQ for a while) does not already hold. */
export const retryJobId = (outputId: string, rev: number) => `${outputId}-retry-${rev}`;

/**
 * failed → queued, by hand: the failure is cleared, the audit says who retried it, why and what it
 * had failed with, and a fresh render job is added. An output in any other state is refused.
 */
export async function retryOutput(
  store: Store,
  queues: Pick<Queues, "render">,
  id: string,
  actor: string,
  reason?: string,
): Promise<Output> {
  const found = await store.outputs.get(id);
  if (!found) throw notFound("output", id);
  return retryOne(store, queues, found, actor, reason);
}

async function retryOne(
  store: Store,
  queues: Pick<Queues, "render">,
  found: Versioned<Output>,
  actor: string,
  reason?: string,
): Promise<Output> {
  const o = found.value;
  if (o.status !== "failed") {
    throw new AppError("invalid_state", `output ${o.id} is ${o.status}; only a failed output can be retried`);
  }
  const at = new Date().toISOString();
  const was = o.failure;
  const queued = move(o, "queued", at, { failure: undefined, attempts: 0, bundleId: undefined });
  await store.outputs.commit({
    writes: [store.outputs.write(queued, found)],
    audit: [
      {
        actor,
        action: "output.retried",
        entity: o.id,
        from: "failed",
        to: "queued",
        at,
        detail: [reason, was ? `had failed: ${was.reason}: ${was.message}` : undefined]
          .filter(Boolean)
          .join("; "),
      },
    ],
  });
  await queues.render.add("render", { outputId: o.id }, { jobId: retryJobId(o.id, found.rev + 1) });
  return queued;
}

/**
 * Several outputs, or every failed output of a campaign; each succeeds or fails on its own.
 * Exactly one of `ids` and `campaignId`.
 */
export async function retryOutputs(
  store: Store,
  queues: Pick<Queues, "render">,
  target: { ids?: string[]; campaignId?: string },
  actor: string,
  reason?: string,
): Promise<RetryResult[]> {
  if ((target.ids?.length ? 1 : 0) + (target.campaignId ? 1 : 0) !== 1) {
    throw new AppError("invalid_input", "name the outputs to retry, or a campaign (one of the two)", [
      { field: "ids", message: "give output ids or a campaign, not both, not neither" },
    ]);
  }
  if (target.campaignId && !(await store.campaigns.get(target.campaignId))) {
    throw notFound("campaign", target.campaignId);
  }
  const ids = target.campaignId
    ? await store.outputs.ids([`campaign:${target.campaignId}:status:failed`])
    : [...new Set(target.ids)];
  const byId = new Map((await store.outputs.getMany(ids)).map((v) => [v.value.id, v]));
  const results: RetryResult[] = [];
  for (const id of ids) {
    const found = byId.get(id);
    try {
      if (!found) throw notFound("output", id);
      const was = found.value.failure;
      const o = await retryOne(store, queues, found, actor, reason);
      results.push({
        id,
        ok: true,
        status: o.status,
        was: was && { reason: was.reason, message: was.message },
      });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      results.push({ id, ok: false, error: { code: err.code, message: err.message } });
    }
  }
  return results;
}
