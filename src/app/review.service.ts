import { AppError, notFound } from "../domain/errors.js";
import type { Narrative } from "../domain/narrative.js";
import { type Decision, move, type Output, type OutputState } from "../domain/output.js";
import type { Store } from "../store/store.js";

export type OutputFilter = {
  campaignId?: string;
  status?: OutputState;
  narrative?: Narrative;
  locale?: string;
  speakerId?: string;
  format?: string;
};

export async function listOutputs(store: Store, f: OutputFilter = {}): Promise<Output[]> {
  const idx: string[] = [];
  if (f.campaignId) idx.push(`campaign:${f.campaignId}`);
  if (f.status) idx.push(`status:${f.status}`);
  if (f.narrative) idx.push(`narrative:${f.narrative}`);
  if (f.locale) idx.push(`locale:${f.locale}`);
  if (f.speakerId) idx.push(`speaker:${f.speakerId}`);
  if (f.format) idx.push(`format:${f.format}`);
  const list = await store.outputs.list(idx);
  return list.sort((a, b) => a.queuedAt.localeCompare(b.queuedAt) || a.id.localeCompare(b.id));
}

export async function getOutput(store: Store, id: string): Promise<Output> {
  const found = await store.outputs.get(id);
  if (!found) throw notFound("output", id);
  return found.value;
}

/**
 * One reviewer's decision. Four eyes: whoever queued an output cannot decide on it. Only outputs in
 * review can be decided; of two decisions racing, the second gets a conflict.
 */
export async function decide(
  store: Store,
  id: string,
  decision: Decision["decision"],
  reviewer: string,
  comment?: string,
  now = new Date(),
): Promise<Output> {
  const found = await store.outputs.get(id);
  if (!found) throw notFound("output", id);
  const output = found.value;
  if (output.queuedBy === reviewer) {
    throw new AppError(
      "forbidden",
      `${reviewer} queued output ${id}; someone else must review it (four eyes)`,
    );
  }
  if (output.status !== "in_review") {
    throw new AppError("invalid_state", `output ${id} is ${output.status}, not in review`);
  }
  const trimmed = comment?.trim() || undefined;
  if (decision === "rejected" && !trimmed) {
    throw new AppError("invalid_input", "a rejection needs a comment saying why", [
      { field: "comment", message: "required" },
    ]);
  }
  const at = now.toISOString();
  const next = move(output, decision, at, {
    decisions: [...output.decisions, { decision, by: reviewer, at, comment: trimmed }],
  });
  await store.outputs.commit({
    writes: [store.outputs.write(next, found)],
    audit: [
      {
        actor: reviewer,
        action: decision === "approved" ? "output.approved" : "output.rejected",
        entity: id,
        from: "in_review",
        to: decision,
        at,
        detail: trimmed,
      },
    ],
  });
  return next;
}

export type BulkResult = {
  id: string;
  ok: boolean;
  status?: OutputState;
  error?: { code: string; message: string };
};

/** Approves each output on its own: one refused output does not block the others. */
export async function bulkApprove(
  store: Store,
  ids: string[],
  reviewer: string,
  comment?: string,
): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (const id of ids) {
    try {
      const o = await decide(store, id, "approved", reviewer, comment);
      results.push({ id, ok: true, status: o.status });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      results.push({ id, ok: false, error: { code: err.code, message: err.message } });
    }
  }
  return results;
}
