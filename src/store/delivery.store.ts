import type { DeliveryAttempt } from "../domain/delivery.js";
import type { AuditRecord } from "./audit.store.js";
import type { Store } from "./store.js";

/** Attempts kept per subject (a bundle, or one event): the newest, enough to see what went wrong. */
const MAX_ATTEMPTS = 200;

type SecretRecord = { current: string; previous?: string; previousUntil?: string };

/**
 * Deliveries (issue 15): every attempt per subject (a bundle id, or an event's id), webhook signing
 * secrets per campaign target (apart from the campaign, so no campaign read ever carries one), and the
 * audit-stream cursor of the event relay. The only module that knows these keys.
 */
export function createDeliveryStore(store: Store) {
  const { redis, keys } = store;
  const attemptsKey = (subject: string) => keys.misc(`delivery:attempts:${subject}`);
  const secretKey = (campaignId: string, targetId: string) =>
    keys.misc(`webhook-secret:${campaignId}:${targetId}`);
  const cursorKey = keys.misc("delivery:relay-cursor");

  return {
    async recordAttempt(subject: string, a: DeliveryAttempt): Promise<void> {
      await redis
        .multi()
        .rpush(attemptsKey(subject), JSON.stringify(a))
        .ltrim(attemptsKey(subject), -MAX_ATTEMPTS, -1)
        .exec();
    },
    async attempts(subject: string): Promise<DeliveryAttempt[]> {
      return (await redis.lrange(attemptsKey(subject), 0, -1)).map((s) => JSON.parse(s) as DeliveryAttempt);
    },
    /** Attempts of many subjects in one round trip (bundle listings). */
    async attemptsMany(subjects: string[]): Promise<Map<string, DeliveryAttempt[]>> {
      const out = new Map<string, DeliveryAttempt[]>();
      if (subjects.length === 0) return out;
      const p = redis.pipeline();
      for (const s of subjects) p.lrange(attemptsKey(s), 0, -1);
      const res = (await p.exec()) ?? [];
      subjects.forEach((s, i) => {
        const [err, list] = res[i] ?? [];
        if (err) throw err;
        out.set(
          s,
          ((list as string[]) ?? []).map((x) => JSON.parse(x) as DeliveryAttempt),
        );
      });
      return out;
    },

    /** Stores a new target's secret unless it has one; true when this one was stored (show it, once). */
    async createSecret(campaignId: string, targetId: string, secret: string): Promise<boolean> {
      const rec: SecretRecord = { current: secret };
      return (await redis.set(secretKey(campaignId, targetId), JSON.stringify(rec), "NX")) === "OK";
    },
    /** A new secret; the old one keeps signing too (a second signature) until `graceUntil`. */
    async rotateSecret(campaignId: string, targetId: string, secret: string, graceUntil: Date) {
      const old = await redis.get(secretKey(campaignId, targetId));
      const prev = old ? (JSON.parse(old) as SecretRecord).current : undefined;
      const rec: SecretRecord = prev
        ? { current: secret, previous: prev, previousUntil: graceUntil.toISOString() }
        : { current: secret };
      await redis.set(secretKey(campaignId, targetId), JSON.stringify(rec));
    },
    /** The secrets to sign with now: the current one, and the previous one during its grace period. */
    async signingSecrets(campaignId: string, targetId: string, now = new Date()): Promise<string[]> {
      const raw = await redis.get(secretKey(campaignId, targetId));
      if (!raw) return [];
      const rec = JSON.parse(raw) as SecretRecord;
      const keep = rec.previous && rec.previousUntil && Date.parse(rec.previousUntil) > now.getTime();
      return keep ? [rec.current, rec.previous!] : [rec.current];
    },
    async removeSecret(campaignId: string, targetId: string): Promise<void> {
      await redis.del(secretKey(campaignId, targetId));
    },

    /** The relay's place in the audit stream; at first use, the stream's end (history is not replayed). */
    async relayCursor(): Promise<string> {
      const saved = await redis.get(cursorKey);
      if (saved) return saved;
      const last = (await redis.xrevrange(keys.audit, "+", "-", "COUNT", 1)) as [string, string[]][];
      const start = last[0]?.[0] ?? "0-0";
      await redis.set(cursorKey, start, "NX");
      return (await redis.get(cursorKey)) ?? start;
    },
    async setRelayCursor(seq: string): Promise<void> {
      await redis.set(cursorKey, seq);
    },
    /** Audit entries after `seq`, oldest first. */
    async auditAfter(seq: string, count: number): Promise<AuditRecord[]> {
      const batch = (await redis.xrange(keys.audit, `(${seq}`, "+", "COUNT", count)) as [string, string[]][];
      return batch.map(([id, fields]) => {
        const rec: Record<string, string> = { seq: id };
        for (let i = 0; i + 1 < fields.length; i += 2) rec[fields[i]!] = fields[i + 1]!;
        return rec as AuditRecord;
      });
    },
  };
}
export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
