import { randomBytes } from "node:crypto";
import type { Store } from "./store.js";

/**
 * A secret shared by every API process on one Redis, made once (SET NX) and then only read: it signs
 * the sign-in form's anti-CSRF token, so a form served by one process is accepted by another. Whoever
 * holds the Redis URL can read it, as they can read everything else.
 */
export async function signingKey(store: Store, name: string): Promise<Buffer> {
  const key = store.keys.misc(`secret:${name}`);
  await store.redis.set(key, randomBytes(32).toString("base64url"), "NX");
  const value = await store.redis.get(key);
  if (!value) throw new Error(`signing key ${name} could not be read back`);
  return Buffer.from(value, "base64url");
}
