import { z } from "zod";
import {
  DELIVERY_TYPES,
  type DeliveryTarget,
  deliveryTargets,
  WEBHOOK_EVENTS,
} from "../../domain/delivery.js";
import type { ErrorDetail } from "../../domain/errors.js";

/**
 * The campaign form's "Delivery" fieldset (issue 15): one row per target, posted as flat fields
 * `d<i>_<field>` (a browser form has no nesting), plus one blank row to add a target. The rows become
 * the campaign file's `delivery` array, judged by the same zod schema as the API (deliverySchema); its
 * errors (`delivery.<n>.<field>`) are mapped back to the row they came from.
 */
export const MAX_ROWS = 11; // at most 10 targets, and the blank one

const text = z.string().max(2000).optional();
const many = z
  .union([z.string().max(200), z.array(z.string().max(200)).max(10)])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

/** The form fields of every row, for the route's body schema. */
export const deliveryFormShape: Record<string, z.ZodType> = { delivery: z.literal("1").optional() };
for (let i = 0; i < MAX_ROWS; i++) {
  for (const f of [
    "type",
    "new",
    "id",
    "remove",
    "bucket",
    "prefix",
    "endpoint",
    "region",
    "keyEnv",
    "secretEnv",
    "url",
    "ttl",
  ])
    deliveryFormShape[`d${i}_${f}`] = text;
  deliveryFormShape[`d${i}_events`] = many;
}

export type DeliveryRow = {
  index: number;
  type: string;
  /** Added in this form and not saved yet: its type is still a choice. */
  isNew: boolean;
  id: string;
  remove: boolean;
  bucket: string;
  prefix: string;
  endpoint: string;
  region: string;
  keyEnv: string;
  secretEnv: string;
  url: string;
  events: string[];
  ttl: string;
};

const blankRow = (index: number): DeliveryRow => ({
  index,
  type: "",
  isNew: true,
  id: "",
  remove: false,
  bucket: "",
  prefix: "",
  endpoint: "",
  region: "",
  keyEnv: "",
  secretEnv: "",
  url: "",
  events: [...WEBHOOK_EVENTS],
  ttl: "",
});

/** The posted rows, or undefined when the form had no Delivery fieldset (an edit then keeps the targets). */
export function rowsFromBody(body: Record<string, unknown>): DeliveryRow[] | undefined {
  if (body.delivery !== "1") return undefined;
  const s = (i: number, f: string) => {
    const v = body[`d${i}_${f}`];
    return typeof v === "string" ? v : "";
  };
  const rows: DeliveryRow[] = [];
  for (let i = 0; i < MAX_ROWS; i++) {
    if (body[`d${i}_type`] === undefined) continue;
    const ev = body[`d${i}_events`];
    rows.push({
      index: i,
      type: s(i, "type"),
      isNew: s(i, "new") === "1",
      id: s(i, "id").trim(),
      remove: s(i, "remove") !== "",
      bucket: s(i, "bucket").trim(),
      prefix: s(i, "prefix").trim(),
      endpoint: s(i, "endpoint").trim(),
      region: s(i, "region").trim(),
      keyEnv: s(i, "keyEnv").trim(),
      secretEnv: s(i, "secretEnv").trim(),
      url: s(i, "url").trim(),
      events: Array.isArray(ev) ? (ev as string[]) : typeof ev === "string" ? [ev] : [],
      ttl: s(i, "ttl").trim(),
    });
  }
  return rows;
}

/** A stored campaign's targets as rows. */
export function rowsFromCampaign(c: { delivery?: DeliveryTarget[] }): DeliveryRow[] {
  return deliveryTargets(c).map((t, index) => ({
    ...blankRow(index),
    isNew: false,
    type: t.type,
    id: t.id,
    ...(t.type === "s3"
      ? {
          bucket: t.bucket,
          prefix: t.prefix,
          endpoint: t.endpoint ?? "",
          region: t.region ?? "",
          keyEnv: t.accessKeyIdEnv,
          secretEnv: t.secretAccessKeyEnv,
        }
      : {}),
    ...(t.type === "webhook" ? { url: t.url, events: t.events, ttl: String(t.linkTtlSeconds) } : {}),
  }));
}

/** Rows to show: the given ones, renumbered, and a blank one to add a target while there is room. */
export function withBlankRow(rows: DeliveryRow[]): DeliveryRow[] {
  const out = rows.map((r, index) => ({ ...r, index }));
  const hasBlank = out.some((r) => r.isNew && !r.type);
  if (!hasBlank && out.length < MAX_ROWS - 1) out.push(blankRow(out.length));
  return out;
}

/** Rows → the campaign file's `delivery`, and which row each target came from (for its errors). */
export function deliveryFromRows(rows: DeliveryRow[]): { delivery: unknown[]; rowOf: number[] } {
  const delivery: unknown[] = [];
  const rowOf: number[] = [];
  for (const r of rows) {
    if (!r.type || r.remove) continue;
    const id = r.id ? { id: r.id } : {};
    if (r.type === "s3") {
      delivery.push({
        type: "s3",
        ...id,
        bucket: r.bucket,
        ...(r.prefix ? { prefix: r.prefix } : {}),
        ...(r.endpoint ? { endpoint: r.endpoint } : {}),
        ...(r.region ? { region: r.region } : {}),
        accessKeyIdEnv: r.keyEnv,
        secretAccessKeyEnv: r.secretEnv,
      });
    } else if (r.type === "webhook") {
      delivery.push({
        type: "webhook",
        ...id,
        url: r.url,
        events: r.events,
        // A number when it is one; otherwise the schema says what it wants beside the field.
        ...(r.ttl ? { linkTtlSeconds: /^\d+$/.test(r.ttl) ? Number(r.ttl) : r.ttl } : {}),
      });
    } else delivery.push({ type: r.type, ...id });
    rowOf.push(r.index);
  }
  return { delivery, rowOf };
}

/** `delivery.<n>.<field>` → `delivery.r<row>.<field>`, so the form can show it beside its row's field. */
export function errorsToRows(details: ErrorDetail[] | undefined, rowOf: number[]): ErrorDetail[] {
  return (details ?? []).map((d) => {
    const m = /^delivery\.(\d+)(\..*)?$/.exec(d.field ?? "");
    if (!m) return d;
    const row = rowOf[Number(m[1])];
    return row === undefined ? d : { ...d, field: `delivery.r${row}${m[2] ?? ""}` };
  });
}

const FIELD_OF: Record<string, string> = {
  id: "id",
  type: "type",
  bucket: "bucket",
  prefix: "prefix",
  endpoint: "endpoint",
  region: "region",
  accessKeyIdEnv: "keyEnv",
  secretAccessKeyEnv: "secretEnv",
  url: "url",
  events: "events",
  linkTtlSeconds: "ttl",
};

/** What the template needs per row: its fields, the choices, and its errors by field. */
export function rowView(r: DeliveryRow, details: ErrorDetail[]) {
  const err: Record<string, string> = {};
  for (const d of details) {
    const m = /^delivery\.r(\d+)(?:\.([A-Za-z]+))?/.exec(d.field ?? "");
    if (!m || Number(m[1]) !== r.index) continue;
    const key = m[2] ? (FIELD_OF[m[2]] ?? "row") : "row";
    err[key] = err[key] ? `${err[key]}; ${d.message}` : d.message;
  }
  return {
    ...r,
    err,
    isFolder: r.type === "folder",
    isS3: r.type === "s3",
    isWebhook: r.type === "webhook",
    // A new row has both groups (workspace.js shows the chosen type's; without script, both show).
    showS3: r.isNew || r.type === "s3",
    showWebhook: r.isNew || r.type === "webhook",
    hideS3: r.isNew && !!r.type && r.type !== "s3",
    hideWebhook: r.isNew && !!r.type && r.type !== "webhook",
    types: DELIVERY_TYPES.map((t) => ({ value: t, selected: t === r.type })),
    events: WEBHOOK_EVENTS.map((e, n) => ({ value: e, n, checked: r.events.includes(e) })),
  };
}
