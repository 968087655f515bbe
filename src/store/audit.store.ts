import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

export type AuditEntry = {
  actor: string;
  action: string;
  entity: string;
  from?: string;
  to?: string;
  at: string;
  detail?: string;
};

export type AuditRecord = AuditEntry & { seq: string };

/** Flattened for XADD, in a fixed field order; empty fields are left out. */
export function auditFields(e: AuditEntry): string[] {
  const out: string[] = [];
  for (const k of ["actor", "action", "entity", "from", "to", "at", "detail"] as const) {
    const v = e[k];
    if (v !== undefined && v !== "") out.push(k, v);
  }
  return out;
}

function toRecord(id: string, fields: string[]): AuditRecord {
  const rec: Record<string, string> = { seq: id };
  for (let i = 0; i + 1 < fields.length; i += 2) rec[fields[i]!] = fields[i + 1]!;
  return rec as AuditRecord;
}

export function createAuditStore(redis: Redis, keys: Keys) {
  return {
    async append(e: AuditEntry): Promise<void> {
      await redis.xadd(keys.audit, "*", ...auditFields(e));
    },
    /** Newest last. Filtering by entity reads the whole stream: fine for an audit trail's size. */
    async list(opts: { entity?: string; limit?: number } = {}): Promise<AuditRecord[]> {
      const limit = opts.limit ?? 1000;
      const out: AuditRecord[] = [];
      let start = "-";
      for (;;) {
        const batch = (await redis.xrange(keys.audit, start, "+", "COUNT", 2000)) as [string, string[]][];
        for (const [id, fields] of batch) {
          const rec = toRecord(id, fields);
          if (!opts.entity || rec.entity === opts.entity) out.push(rec);
        }
        if (batch.length < 2000) break;
        start = `(${batch[batch.length - 1]![0]}`;
      }
      return out.slice(-limit);
    },
  };
}
export type AuditStore = ReturnType<typeof createAuditStore>;
