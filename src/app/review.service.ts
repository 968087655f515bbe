import { checkText } from "../domain/clean-text.js";
import { AppError, notFound } from "../domain/errors.js";
import type { Narrative } from "../domain/narrative.js";
import { type Decision, move, type Output, type OutputState } from "../domain/output.js";
import type { AuditEntry } from "../store/audit.store.js";
import type { Versioned } from "../store/entity.repo.js";
import type { Store } from "../store/store.js";

export type OutputFilter = {
  campaignId?: string;
  status?: OutputState;
  narrative?: Narrative;
  locale?: string;
  speakerId?: string;
  format?: string;
};

/** Index names for a filter: campaign and status together use their combined index. */
function indexNames(f: OutputFilter): string[] {
  const idx: string[] = [];
  if (f.campaignId && f.status) idx.push(`campaign:${f.campaignId}:status:${f.status}`);
  else if (f.campaignId) idx.push(`campaign:${f.campaignId}`);
  else if (f.status) idx.push(`status:${f.status}`);
  if (f.narrative) idx.push(`narrative:${f.narrative}`);
  if (f.locale) idx.push(`locale:${f.locale}`);
  if (f.speakerId) idx.push(`speaker:${f.speakerId}`);
  if (f.format) idx.push(`format:${f.format}`);
  return idx;
}

/** Every matching output, oldest queued first. Reads them all: prefer `pageOutputs`. */
export async function listOutputs(store: Store, f: OutputFilter = {}): Promise<Output[]> {
  const list = await store.outputs.list(indexNames(f));
  return list.sort((a, b) => byQueue(a, b));
}

const byQueue = (a: Output, b: Output) =>
  a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

export type OutputPage = { items: Output[]; nextCursor?: string; total: number };

/** Cursor = position in the list's sort order (queuedAt, id): stable while outputs change state. */
export const encodeCursor = (p: { queuedAt: string; id: string }) =>
  Buffer.from(`${p.queuedAt}\n${p.id}`).toString("base64url");
function decodeCursor(cursor: string): { sortKey: string; id: string } {
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split("\n");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new AppError("invalid_input", "cursor is not one this API gave out", [
      { where: "querystring", field: "cursor", message: "unknown cursor" },
    ]);
  }
  return { sortKey: parts[0], id: parts[1] };
}

/**
 * One page of matching outputs, oldest queued first, read through the store's sorted indexes from
 * the cursor: the cost follows the page, not the store. `total` counts the matching outputs (O(1)
 * for one filter or campaign + status; an intersection in Redis otherwise). A page can come back
 * short of `limit` with a cursor when combined filters skip many entries; follow the cursor.
 */
export async function pageOutputs(
  store: Store,
  f: OutputFilter,
  o: { limit: number; cursor?: string },
): Promise<OutputPage> {
  const idx = indexNames(f);
  const after = o.cursor ? decodeCursor(o.cursor) : undefined;
  const [page, total] = await Promise.all([
    store.outputs.page(idx, { after, limit: o.limit }),
    store.outputs.count(idx),
  ]);
  return {
    items: page.items.map((v) => v.value),
    nextCursor: page.next ? encodeCursor({ queuedAt: page.next.sortKey, id: page.next.id }) : undefined,
    total,
  };
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
  const d = decided(store, found, decision, reviewer, comment, now);
  await store.outputs.commit({ writes: [d.write], audit: [d.audit] });
  return d.next;
}

/** The rules of a decision on an output read with its revision: the write and audit entry, or why not. */
function decided(
  store: Store,
  found: Versioned<Output>,
  decision: Decision["decision"],
  reviewer: string,
  comment: string | undefined,
  now: Date,
) {
  const output = found.value;
  const id = output.id;
  if (output.queuedBy === reviewer) {
    throw new AppError(
      "forbidden",
      `${reviewer} queued output ${id}; someone else must review it (four eyes)`,
    );
  }
  if (output.status !== "in_review") {
    throw new AppError("invalid_state", `output ${id} is ${output.status}, not in review`);
  }
  // The one text gate, on the CLI as on the API: no controls, no bidi overrides, NFC.
  const trimmed =
    comment === undefined ? undefined : checkText(comment, "multiline", "comment").trim() || undefined;
  if (decision === "rejected" && !trimmed) {
    throw new AppError("invalid_input", "a rejection needs a comment saying why", [
      { field: "comment", message: "required" },
    ]);
  }
  const at = now.toISOString();
  const next = move(output, decision, at, {
    decisions: [...output.decisions, { decision, by: reviewer, at, comment: trimmed }],
  });
  const audit: AuditEntry = {
    actor: reviewer,
    action: decision === "approved" ? "output.approved" : "output.rejected",
    entity: id,
    from: "in_review",
    to: decision,
    at,
    detail: trimmed,
  };
  return { next, write: store.outputs.write(next, found), audit };
}

export type BulkResult = {
  id: string;
  ok: boolean;
  status?: OutputState;
  error?: { code: string; message: string };
};

/**
 * Approves each output on its own terms: one refused output does not block the others. The outputs
 * are read in one request and the approvals land in one commit (each write checked against the
 * revision it was read at, each with its audit entry); if any changed meanwhile, each is decided
 * again on its own, as `decide` does, so a race gives the same per-output results.
 */
export async function bulkApprove(
  store: Store,
  ids: string[],
  reviewer: string,
  comment?: string,
  now = new Date(),
): Promise<BulkResult[]> {
  const refused = (id: string, err: unknown): BulkResult => {
    if (!(err instanceof AppError)) throw err;
    return { id, ok: false, error: { code: err.code, message: err.message } };
  };
  const oneByOne = async () => {
    const results: BulkResult[] = [];
    for (const id of ids) {
      try {
        const o = await decide(store, id, "approved", reviewer, comment, now);
        results.push({ id, ok: true, status: o.status });
      } catch (err) {
        results.push(refused(id, err));
      }
    }
    return results;
  };
  // The same id twice: the second is refused as already decided, which only one at a time shows.
  if (new Set(ids).size !== ids.length) return oneByOne();
  const found = new Map((await store.outputs.getMany(ids)).map((v) => [v.value.id, v]));
  const results: BulkResult[] = [];
  const ok: ReturnType<typeof decided>[] = [];
  for (const id of ids) {
    const v = found.get(id);
    try {
      if (!v) throw notFound("output", id);
      const d = decided(store, v, "approved", reviewer, comment, now);
      ok.push(d);
      results.push({ id, ok: true, status: d.next.status });
    } catch (err) {
      results.push(refused(id, err));
    }
  }
  try {
    await store.outputs.commit({ writes: ok.map((d) => d.write), audit: ok.map((d) => d.audit) });
  } catch (err) {
    if (err instanceof AppError && err.code === "conflict") return oneByOne();
    throw err;
  }
  return results;
}
