import { readFile } from "node:fs/promises";
import path from "node:path";
import type { FastifyInstance, RouteOptions } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Output } from "../../src/domain/output.js";
import { PERMISSIONS, type Permission, type Role } from "../../src/domain/user.js";
import type { RouteConfig } from "../../src/http/access.js";

import { buildApp, type Harness, harness, makeOutput, makeUser, signIn } from "./fixtures.js";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let h: Harness;
let app: FastifyInstance;
const routes: { method: string; url: string; readonly config: RouteConfig }[] = [];
type U = Awaited<ReturnType<typeof makeUser>>;
const users = {} as Record<"staff" | "reviewer" | "admin" | "dual", U>;

beforeAll(async () => {
  h = await harness("http-api");
  app = buildApp(h.deps);
  // Every route is registered inside a plugin, so this hook sees them all, bull-board's included.
  app.addHook("onRoute", (r: RouteOptions) => {
    // Read the config late: a plugin's own onRoute hook (the dashboard's) may still set it.
    for (const method of [r.method].flat()) {
      routes.push({
        method,
        url: r.url,
        get config() {
          return (r.config ?? {}) as RouteConfig;
        },
      });
    }
  });
  await app.ready();
  users.staff = await makeUser(h, "staff1", ["staff"]);
  users.reviewer = await makeUser(h, "rev1", ["reviewer"]);
  users.admin = await makeUser(h, "admin1", ["admin"]);
  users.dual = await makeUser(h, "dual1", ["staff", "reviewer"]);
});
afterAll(() => h.close(app));

/** A user whose roles lack the permission: the one to get a 403. */
function lacking(permission: Permission): U {
  const allowed = PERMISSIONS[permission] as readonly Role[];
  const name = (["staff", "reviewer", "admin"] as const).find((r) => !allowed.includes(r));
  if (!name) throw new Error(`every role has ${permission}`);
  return users[name];
}

const fill = (url: string) => url.replace(/:([A-Za-z]+)/g, "x-$1").replace(/\*$/, "x");

describe("every state-changing route refuses the unauthenticated and the wrong role", () => {
  it("finds the routes", () => {
    const changing = routes.filter((r) => STATE_CHANGING.has(r.method));
    expect(changing.length).toBeGreaterThan(30);
    expect(changing.map((r) => r.url)).toEqual(
      expect.arrayContaining(["/api/outputs/:id/approve", "/review/outputs/:id/reject"]),
    );
    for (const r of routes) expect(r.config.access, `${r.method} ${r.url} declares access`).toBeDefined();
  });

  it("401 without credentials, 403 with a role that lacks the permission", async () => {
    const sessions = new Map<U, Awaited<ReturnType<typeof signIn>>>();
    const checked: string[] = [];
    for (const r of routes.filter((x) => STATE_CHANGING.has(x.method) && x.url !== "/review/login")) {
      const label = `${r.method} ${r.url}`;
      const access = r.config.access!;
      expect(access.auth, label).not.toBe("public");
      const url = fill(r.url);
      const none = await app.inject({ method: r.method as "POST", url, payload: {} });
      expect(none.statusCode, `${label} without credentials`).toBe(401);
      expect(none.json().error, label).toBe("unauthorized");
      if (access.auth === "public" || access.permission === "signed-in") continue;
      const user = lacking(access.permission);
      let headers: Record<string, string> = user.auth;
      let cookies: Record<string, string> = {};
      if (access.auth === "session") {
        const s = sessions.get(user) ?? (await signIn(app, user.token));
        sessions.set(user, s);
        headers = { "x-csrf-token": s.csrf };
        cookies = { tm_session: s.cookie };
      }
      const wrong = await app.inject({ method: r.method as "POST", url, payload: {}, headers, cookies });
      expect(wrong.statusCode, `${label} as ${user.name}`).toBe(403);
      expect(wrong.json().message, label).toContain(`needs ${access.permission}`);
      checked.push(label);
    }
    expect(checked.length).toBeGreaterThan(30);
  });
});

describe("review decisions through the API", () => {
  let a: Output;
  let b: Output;
  let own: Output;
  // Fresh outputs for each test, so each runs alone and in any order.
  beforeEach(async () => {
    a = await makeOutput(h);
    b = await makeOutput(h);
    own = await makeOutput(h, { queuedBy: "dual1" });
  });

  it("approves, then 409 when approving again", async () => {
    const ok = await app.inject({
      method: "POST",
      url: `/api/outputs/${a.id}/approve`,
      headers: users.reviewer.auth,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      id: a.id,
      status: "approved",
      decisions: [{ decision: "approved", by: "rev1" }],
    });
    const again = await app.inject({
      method: "POST",
      url: `/api/outputs/${a.id}/approve`,
      headers: users.reviewer.auth,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: "invalid_state", details: [] });
    expect(again.json().message).toContain("not in review");
    const audit = await app.inject({ url: `/api/audit?entity=${a.id}`, headers: users.staff.auth });
    expect(audit.json().items).toEqual([
      expect.objectContaining({ actor: "rev1", action: "output.approved", to: "approved" }),
    ]);
  });

  it("four eyes: whoever queued an output cannot decide on it (403 with the reason)", async () => {
    const res = await app.inject({
      method: "POST",
      url: `/api/outputs/${own.id}/approve`,
      headers: users.dual.auth,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: "forbidden" });
    expect(res.json().message).toMatch(/dual1 queued output .*four eyes/);
    expect((await h.store.outputs.get(own.id))?.value.status).toBe("in_review");
  });

  it("400 with field details: a rejection without a comment, a bad filter, bad JSON", async () => {
    const noComment = await app.inject({
      method: "POST",
      url: `/api/outputs/${b.id}/reject`,
      headers: users.reviewer.auth,
      payload: {},
    });
    expect(noComment.statusCode).toBe(400);
    expect(noComment.json()).toMatchObject({
      error: "invalid_input",
      details: [{ where: "body", field: "comment" }],
    });
    const badFilter = await app.inject({
      url: "/api/outputs?status=bogus&limit=0",
      headers: users.staff.auth,
    });
    expect(badFilter.statusCode).toBe(400);
    expect(
      badFilter
        .json()
        .details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(["limit", "status"]);
    const badJson = await app.inject({
      method: "POST",
      url: `/api/outputs/${b.id}/reject`,
      headers: { ...users.reviewer.auth, "content-type": "application/json" },
      payload: "{nope",
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ error: "invalid_input" });
    const rejected = await app.inject({
      method: "POST",
      url: `/api/outputs/${b.id}/reject`,
      headers: users.reviewer.auth,
      payload: { comment: "  The citation is wrong  " },
    });
    expect(rejected.json()).toMatchObject({
      status: "rejected",
      decisions: [{ comment: "The citation is wrong" }],
    });
  });

  it("bulk approval reports each output on its own", async () => {
    const decided = await makeOutput(h, {
      status: "approved",
      decisions: [{ decision: "approved", by: "rev1", at: "2026-01-01T00:00:00.000Z" }],
    });
    const res = await app.inject({
      method: "POST",
      url: "/api/outputs/bulk-approve",
      headers: users.reviewer.auth,
      payload: { ids: [a.id, decided.id, "o-missing"] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().results).toEqual([
      { id: a.id, ok: true, status: "approved" },
      { id: decided.id, ok: false, error: { code: "invalid_state", message: expect.any(String) } },
      {
        id: "o-missing",
        ok: false,
        error: { code: "not_found", message: "output o-missing does not exist" },
      },
    ]);
  });
});

describe("outputs: list, card, text", () => {
  it("filters and pages with a cursor, and never shows server paths", async () => {
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await makeOutput(h, { campaignId: "camp-page", locale: i < 3 ? "en" : "ar" }));
    const first = await app.inject({
      url: "/api/outputs?campaign=camp-page&limit=2",
      headers: users.staff.auth,
    });
    expect(first.statusCode).toBe(200);
    const p1 = first.json();
    expect(p1.total).toBe(5);
    expect(p1.items.map((o: Output) => o.id)).toEqual(made.slice(0, 2).map((o) => o.id));
    expect(p1.items[0].files).toBeUndefined();
    expect(p1.items[0].links.card).toBe(`/api/outputs/${made[0]!.id}/card`);
    const p2 = (
      await app.inject({
        url: `/api/outputs?campaign=camp-page&limit=2&cursor=${p1.nextCursor}`,
        headers: users.staff.auth,
      })
    ).json();
    const p3 = (
      await app.inject({
        url: `/api/outputs?campaign=camp-page&limit=2&cursor=${p2.nextCursor}`,
        headers: users.staff.auth,
      })
    ).json();
    expect([...p2.items, ...p3.items].map((o: Output) => o.id)).toEqual(made.slice(2).map((o) => o.id));
    expect(p3.nextCursor).toBeUndefined();
    const ar = (
      await app.inject({
        url: "/api/outputs?campaign=camp-page&locale=ar&status=in_review",
        headers: users.staff.auth,
      })
    ).json();
    expect(ar.total).toBe(2);
  });

  it("serves the card bytes with the image type and a text variant as plain text", async () => {
    const o = await makeOutput(h);
    const card = await app.inject({ url: `/api/outputs/${o.id}/card`, headers: users.reviewer.auth });
    expect(card.statusCode).toBe(200);
    expect(card.headers["content-type"]).toBe("image/png");
    expect(card.rawPayload.equals(await readFile(path.join(h.dataDir, o.files!.card)))).toBe(true);
    const text = await app.inject({ url: `/api/outputs/${o.id}/text/post`, headers: users.reviewer.auth });
    expect(text.headers["content-type"]).toContain("text/plain");
    expect(text.body).toBe(o.variants!.post);
    const missing = await app.inject({
      url: `/api/outputs/${o.id}/text/caption`,
      headers: users.reviewer.auth,
    });
    expect(missing.statusCode).toBe(404);
    expect(
      (await app.inject({ url: "/api/outputs/o-nope", headers: users.reviewer.auth })).json(),
    ).toMatchObject({ error: "not_found" });
  });

  it("401 for a wrong token, also on reads", async () => {
    const res = await app.inject({
      url: "/api/outputs",
      headers: { authorization: "Bearer tm_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe("Bearer");
  });
});

describe("documents and identity", () => {
  it("/openapi.json lists every API route that is registered", async () => {
    const doc = (await app.inject({ url: "/openapi.json" })).json();
    const api = routes.filter((r) => r.url.startsWith("/api/") && r.method !== "HEAD");
    expect(api.length).toBeGreaterThan(25);
    for (const r of api) {
      const p = r.url.replace(/:([A-Za-z]+)/g, "{$1}");
      expect(doc.paths[p]?.[r.method.toLowerCase()], `${r.method} ${r.url} in OpenAPI`).toBeDefined();
    }
  });

  it("never sends token hashes", async () => {
    const me = await app.inject({ url: "/api/me", headers: users.reviewer.auth });
    expect(me.json()).toEqual({
      id: "rev1",
      roles: ["reviewer"],
      createdAt: expect.any(String),
      createdBy: "test",
    });
    const list = await app.inject({ url: "/api/users", headers: users.admin.auth });
    expect(list.body).not.toMatch(/tokenHash|tokenSalt|tokenId/);
  });
});
