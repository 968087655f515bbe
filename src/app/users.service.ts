import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AppError, notFound } from "../domain/errors.js";
import { can, type Permission, type Role, roleSchema, type User, userNameSchema } from "../domain/user.js";
import type { Store } from "../store/store.js";

const hashSecret = (salt: string, secret: string) =>
  createHash("sha256").update(salt).update(secret).digest("hex");

/** Creates a user and returns its token, shown once: only a salted hash of the secret is kept. */
export async function addUser(store: Store, name: string, roles: string[], actor: string, now = new Date()) {
  const parsedName = userNameSchema.safeParse(name);
  if (!parsedName.success)
    throw new AppError("invalid_input", `user name: ${parsedName.error.issues[0]?.message}`, [
      { field: "name", message: "invalid" },
    ]);
  if (roles.length === 0)
    throw new AppError("invalid_input", "at least one --role", [{ field: "role", message: "required" }]);
  const parsedRoles: Role[] = [];
  for (const r of roles) {
    const p = roleSchema.safeParse(r);
    if (!p.success)
      throw new AppError("invalid_input", `--role ${r}: ${p.error.issues[0]?.message}`, [
        { field: "role", message: "unknown role" },
      ]);
    if (!parsedRoles.includes(p.data)) parsedRoles.push(p.data);
  }
  if (await store.users.get(name)) throw new AppError("conflict", `user ${name} exists already`);
  const { token, fields } = newToken();
  const at = now.toISOString();
  const user: User = { id: name, roles: parsedRoles, ...fields, createdAt: at, createdBy: actor };
  await store.users.commit({
    writes: [store.users.write(user)],
    audit: [{ actor, action: "user.added", entity: name, to: parsedRoles.join(","), at }],
  });
  return { user, token };
}

function newToken() {
  const tokenId = randomBytes(9).toString("base64url");
  const secret = randomBytes(24).toString("base64url");
  const tokenSalt = randomBytes(16).toString("hex");
  return {
    token: `tm_${tokenId}.${secret}`,
    fields: { tokenId, tokenSalt, tokenHash: hashSecret(tokenSalt, secret) },
  };
}

/** Replaces a user's token (the old one stops working at once) and returns the new one, shown once. */
export async function rotateToken(store: Store, name: string, actor: string, now = new Date()) {
  const found = await store.users.get(name);
  if (!found) throw notFound("user", name);
  if (found.value.revokedAt) throw new AppError("invalid_state", `user ${name} is revoked`);
  const { token, fields } = newToken();
  const at = now.toISOString();
  await store.users.commit({
    writes: [store.users.write({ ...found.value, ...fields }, found)],
    audit: [{ actor, action: "user.token_rotated", entity: name, at }],
  });
  return token;
}

export async function revokeUser(store: Store, name: string, actor: string, now = new Date()) {
  const found = await store.users.get(name);
  if (!found) throw notFound("user", name);
  if (found.value.revokedAt) return found.value;
  const at = now.toISOString();
  const user = { ...found.value, revokedAt: at };
  await store.users.commit({
    writes: [store.users.write(user, found)],
    audit: [{ actor, action: "user.revoked", entity: name, at }],
  });
  return user;
}

/** The user a bearer token belongs to, or undefined for a missing, malformed, wrong or revoked token. */
export async function authenticate(store: Store, token: string | undefined): Promise<User | undefined> {
  const m = token ? /^tm_([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{32})$/.exec(token) : null;
  if (!m) return undefined;
  const [user] = await store.users.list([`token:${m[1]}`]);
  if (!user || user.revokedAt) return undefined;
  const expected = Buffer.from(user.tokenHash, "hex");
  const actual = Buffer.from(hashSecret(user.tokenSalt, m[2]!), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? user : undefined;
}

/** The CLI acts as a named user (`--as`), under the same role rules as the API. */
export async function actingUser(store: Store, name: string, permission: Permission): Promise<User> {
  const found = await store.users.get(name);
  if (!found || found.value.revokedAt) {
    throw new AppError(
      "forbidden",
      `no active user ${name}: add one with \`testimony users add ${name} --role …\``,
    );
  }
  requirePermission(found.value, permission);
  return found.value;
}

export function requirePermission(user: User, permission: Permission) {
  if (!can(user, permission)) {
    throw new AppError(
      "forbidden",
      `${user.id} (${user.roles.join(", ")}) may not do this: it needs ${permission}`,
    );
  }
}
