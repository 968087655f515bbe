import { can, type Permission, ROLES, type Role } from "../../domain/user.js";

/**
 * The top navigation shared by /review and the workspace: only what the user's roles allow. Labels are
 * catalogue keys (src/templates/pages/i18n), translated by the layout's `{{t labelKey}}`.
 */
export const NAV_ITEMS: { href: string; labelKey: string; permission: Permission }[] = [
  { href: "/workspace/quotes", labelKey: "nav.quotes", permission: "quotes:write" },
  { href: "/workspace/speakers", labelKey: "nav.speakers", permission: "speakers:consent" },
  { href: "/workspace/campaigns", labelKey: "nav.campaigns", permission: "campaigns:write" },
  { href: "/review", labelKey: "nav.review", permission: "read" },
  { href: "/workspace/audit", labelKey: "nav.audit", permission: "read" },
  { href: "/workspace/users", labelKey: "nav.users", permission: "users:admin" },
  { href: "/admin/queues", labelKey: "nav.queues", permission: "users:admin" },
];

/** `roles` as the pages carry them: an array, or the comma-joined string the review page shows. */
export const rolesOf = (roles: readonly string[] | string | undefined): Role[] =>
  (typeof roles === "string" ? roles.split(/,\s*/) : (roles ?? [])).filter((r): r is Role =>
    (ROLES as readonly string[]).includes(r),
  );

export function navFor(roles: readonly string[] | string | undefined, current?: string) {
  const list = rolesOf(roles);
  return NAV_ITEMS.filter((i) => can({ roles: list }, i.permission)).map((i) => ({
    ...i,
    current: current !== undefined && (current === i.href || current.startsWith(`${i.href}/`)),
  }));
}
