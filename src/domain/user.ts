import { z } from "zod";
import { idSchema } from "./ids.js";

export const ROLES = ["staff", "reviewer", "admin"] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES, { error: () => `must be one of ${ROLES.join(", ")}` });

export type User = {
  id: string; // the user name
  roles: Role[];
  /** Public half of the token, used to find the user; the secret half is only ever stored hashed. */
  tokenId: string;
  tokenSalt: string;
  tokenHash: string;
  createdAt: string;
  createdBy: string;
  revokedAt?: string;
};

/** Actors that are not accounts: the operator (holds the Redis URL) and the system roles. */
export const SYSTEM_ACTORS = ["operator", "render-worker", "export-worker", "scheduler"] as const;

/**
 * Account names are canonical: NFC, case-folded, and from the id alphabet, so no two accounts (and no
 * two audit actors) differ only in case, and four eyes compares accounts, never free text.
 */
export const canonicalUserName = (name: string) => name.normalize("NFC").toLowerCase();

export const userNameSchema = z
  .string()
  .transform(canonicalUserName)
  .pipe(idSchema)
  .refine((n) => !(SYSTEM_ACTORS as readonly string[]).includes(n), "is reserved for a system role");

/** What each role may do; a user may hold several roles. */
export const PERMISSIONS = {
  "quotes:write": ["staff", "admin"],
  "campaigns:write": ["staff", "admin"],
  queue: ["staff", "admin"],
  review: ["reviewer"],
  "bundles:write": ["staff", "admin"],
  read: ["staff", "reviewer", "admin"],
  "users:admin": ["admin"],
  "speakers:private": ["admin"],
  "speakers:consent": ["staff", "admin"],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(user: Pick<User, "roles" | "revokedAt">, permission: Permission): boolean {
  if (user.revokedAt) return false;
  return user.roles.some((r) => (PERMISSIONS[permission] as readonly Role[]).includes(r));
}
