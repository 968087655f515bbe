import { can, type Permission, ROLES, type Role } from "../../domain/user.js";

/** The top navigation shared by /review and the workspace: only what the user's roles allow. */
const ITEMS: { href: string; label: string; permission: Permission }[] = [
  { href: "/workspace/quotes", label: "Quotes", permission: "quotes:write" },
  { href: "/workspace/speakers", label: "Speakers", permission: "speakers:consent" },
  { href: "/workspace/campaigns", label: "Campaigns", permission: "campaigns:write" },
  { href: "/review", label: "Review", permission: "read" },
  { href: "/admin/queues", label: "Queues", permission: "users:admin" },
];

/** `roles` as the pages carry them: an array, or the comma-joined string the review page shows. */
export function navFor(roles: readonly string[] | string | undefined, current?: string) {
  const list = (typeof roles === "string" ? roles.split(/,\s*/) : (roles ?? [])).filter((r): r is Role =>
    (ROLES as readonly string[]).includes(r),
  );
  return ITEMS.filter((i) => can({ roles: list }, i.permission)).map((i) => ({
    ...i,
    current: current !== undefined && (current === i.href || current.startsWith(`${i.href}/`)),
  }));
}
