import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parseOwner } from "../../domain/bundle.js";
import type { Logger } from "../../logger.js";
import type { ExportLeaseStore } from "../../store/export-lease.store.js";

/** This exporter's identity for one drop: host, pid and a nonce. */
export const newOwner = () => `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;

/**
 * True only when the owner is certainly dead: a process of this host that no longer exists. Any other
 * owner (another host, this very process, an unreadable id) counts as alive until its lease runs out.
 */
export function ownerIsDeadHere(owner: string): boolean {
  const o = parseOwner(owner);
  if (!o || o.host !== hostname() || o.pid === process.pid) return false;
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Takes the lease when free or held by a dead local owner; returns "ok" or the live holder. */
export async function takeLease(
  leases: ExportLeaseStore,
  bundleId: string,
  owner: string,
  ttlMs: number,
): Promise<"ok" | string> {
  const first = await leases.acquire(bundleId, owner, ttlMs);
  if (first === "ok" || !ownerIsDeadHere(first)) return first;
  return leases.acquire(bundleId, owner, ttlMs, first);
}

export type HeldLease = { lost(): boolean; stop(): Promise<void> };

/** Renews the lease every third of its TTL while the drop writes; `lost()` once someone else has it. */
export function holdLease(
  leases: ExportLeaseStore,
  bundleId: string,
  owner: string,
  ttlMs: number,
  log: Logger,
): HeldLease {
  let lost = false;
  let busy = false;
  const timer = setInterval(
    () => {
      if (busy) return;
      busy = true;
      leases
        .renew(bundleId, owner, ttlMs)
        .then((held) => {
          if (!held && !lost) log.warn({ bundleId }, "export lease lost: another drop took this bundle over");
          if (!held) lost = true;
        })
        .catch((err: unknown) =>
          log.warn({ err: (err as Error).message }, "could not renew the export lease"),
        )
        .finally(() => {
          busy = false;
        });
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    lost: () => lost,
    async stop() {
      clearInterval(timer);
      if (!lost) await leases.release(bundleId, owner).catch(() => undefined); // runs out by itself otherwise
    },
  };
}
