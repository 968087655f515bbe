import { can, type Permission, type User } from "../../domain/user.js";

/** One campaign's pages, as far as the user's roles allow (each page checks its permission again). */
const PAGES: { key: string; label: string; path: string; permission: Permission }[] = [
  { key: "edit", label: "Settings", path: "edit", permission: "campaigns:write" },
  { key: "queue", label: "Queue content", path: "queue", permission: "queue" },
  { key: "progress", label: "Rendering", path: "progress", permission: "queue" },
  { key: "drops", label: "Drops", path: "drops", permission: "read" },
  { key: "coverage", label: "Coverage", path: "coverage", permission: "read" },
];

/** Catalogue keys of the pages' labels (test/http/i18n-catalogues.test.ts checks both catalogues hold them). */
export const CAMPAIGN_NAV_KEYS = PAGES.map((p) => `campaignNav.${p.key}`);

export function campaignNav(user: Pick<User, "roles">, campaignId: string, current: string) {
  return PAGES.filter((p) => can(user, p.permission)).map((p) => ({
    href: `/workspace/campaigns/${campaignId}/${p.path}`,
    label: p.label,
    /** Catalogue key of the label, e.g. "campaignNav.drops" (the template says it in the user's language). */
    labelKey: `campaignNav.${p.key}`,
    current: p.key === current,
  }));
}
