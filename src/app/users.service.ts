import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AppError, notFound } from "../domain/errors.js";
import {
  can,
  canonicalUserName,
  type Permission,
  type Role,
  roleSchema,
  type User,
  userNameSchema,
} from "../domain/user.js";
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
  name = parsedName.data;
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
  name = canonicalUserName(name);
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
  name = canonicalUserName(name);
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

type TokenCheck = { user: User } | { problem: "malformed" | "unknown" | "revoked"; user?: User };

/** Who holds a token, and if nobody may use it, why: the API and the CLI check tokens the same way. */
async function checkToken(store: Store, token: string | undefined): Promise<TokenCheck> {
  const m = token ? /^tm_([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{32})$/.exec(token) : null;
  if (!m) return { problem: "malformed" };
  const [user] = await store.users.list([`token:${m[1]}`]);
  if (!user) return { problem: "unknown" };
  const expected = Buffer.from(user.tokenHash, "hex");
  const actual = Buffer.from(hashSecret(user.tokenSalt, m[2]!), "hex");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { problem: "unknown" };
  if (user.revokedAt) return { problem: "revoked", user };
  return { user };
}

/** The user a bearer token belongs to, or undefined for a missing, malformed, wrong or revoked token. */
export async function authenticate(store: Store, token: string | undefined): Promise<User | undefined> {
  const r = await checkToken(store, token);
  return "problem" in r ? undefined : r.user;
}

/** The CLI's identity: the account whose token it holds, or an error saying what is wrong with the token. */
export async function identify(store: Store, token: string): Promise<User> {
  const r = await checkToken(store, token);
  if (!("problem" in r)) return r.user;
  const why = {
    malformed: "is not an API token (they look like tm_…)",
    unknown: "matches no account: it is wrong, or was replaced by a newer one",
    revoked: `belongs to ${r.user?.id}, whose account is revoked`,
  }[r.problem];
  throw new AppError(
    "unauthorized",
    `the token ${why}; an admin issues a new one with \`testimony users token NAME\``,
  );
}

export function requirePermission(user: User, permission: Permission) {
  if (!can(user, permission)) {
    throw new AppError(
      "forbidden",
      `${user.id} (${user.roles.join(", ")}) may not do this: it needs ${permission}`,
    );
  }
}
