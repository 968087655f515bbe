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

export const userNameSchema = idSchema;

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
