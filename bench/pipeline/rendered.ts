import type { Store } from "../../src/store/store.js";
import { sleep } from "./stats.js";

/**
 * Waits until `expected` outputs of the campaign have left rendering (in review, or failed), by
 * counting the store's status indexes: two ZCARDs per poll, so polling costs the workers nothing.
 * Any failed render stops the bench: a figure made of failures would mean nothing.
 */
export async function waitRendered(
  store: Store,
  campaignId: string,
  expected: number,
  timeoutMs = 15 * 60_000,
): Promise<void> {
  const count = (status: string) => store.outputs.count([`campaign:${campaignId}:status:${status}`]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [done, failed] = await Promise.all([count("in_review"), count("failed")]);
    if (failed > 0) {
      const [first] = await store.outputs.list([`campaign:${campaignId}:status:failed`]);
      throw new Error(
        `${failed} render(s) of ${campaignId} failed, e.g. ${first?.id}: ${first?.failure?.reason}: ${first?.failure?.message}`,
      );
    }
    if (done >= expected) return;
    if (Date.now() > deadline) throw new Error(`${campaignId}: only ${done}/${expected} rendered in time`);
    await sleep(20);
  }
}
