import { createServer } from "node:http";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver, relayAuditEntries } from "../../src/app/deliver.service.js";
import { exportSlot } from "../../src/app/export.service.js";
import { createDeliveryStore } from "../../src/store/delivery.store.js";
import { anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { buildApp, type Harness, harness, makeUser } from "./fixtures.js";

const campaign = (delivery?: unknown) => ({
  id: "drops",
  name: "Drops",
  audience: { region: "UK" },
  locales: ["en"],
  narratives: ["corruption"],
  formats: ["square"],
  brand: { background: "#102030", text: "#ffffff", accent: "#e0a526" },
  schedule: { cron: "0 9 * * 1", timeZone: "UTC" },
  ...(delivery === undefined ? {} : { delivery }),
});

let h: Harness;
let app: FastifyInstance;
let staff: { authorization: string };
beforeAll(async () => {
  h = await harness("delivery-api");
  app = buildApp(h.deps);
  await app.ready();
  staff = { authorization: `Bearer ${(await makeUser(h, "staff1", ["staff"])).token}` };
});
afterAll(async () => {
  await h.queues.deliver.obliterate({ force: true }).catch(() => {});
  await h.close(app);
});

describe("delivery targets in the API", () => {
  it("refuses a bad target naming the field: a credential in place of a variable's name, a non-http URL, an unknown type", async () => {
    const cases: [unknown, string, RegExp][] = [
      [
        [
          {
            type: "s3",
            bucket: "b-1",
            accessKeyIdEnv: "DELIVERY_K",
            secretAccessKeyEnv: "DELIVERY_S",
            secretAccessKey: "x",
          },
        ],
        "delivery.0",
        /secretAccessKey/,
      ],
      // Another of the worker's variables, which the target's endpoint would then receive: refused.
      [
        [{ type: "s3", bucket: "b-1", accessKeyIdEnv: "REDIS_URL", secretAccessKeyEnv: "DELIVERY_S" }],
        "delivery.0.accessKeyIdEnv",
        /starting with DELIVERY_/,
      ],
      [
        [{ type: "s3", bucket: "b-1", accessKeyIdEnv: "AKIA/abc+def", secretAccessKeyEnv: "DELIVERY_S" }],
        "delivery.0.accessKeyIdEnv",
        /NAME of an environment variable/,
      ],
      [[{ type: "webhook", url: "ftp://example.org/x" }], "delivery.0.url", /http\(s\)/],
      [[{ type: "webhook", url: "https://example.org/x", secret: "whsec_abc" }], "delivery.0", /secret/],
      [[{ type: "email" }], "delivery.0.type", /folder, s3, webhook/],
      [
        [
          { type: "webhook", id: "x", url: "https://a.example" },
          { type: "folder", id: "x" },
        ],
        "delivery.1.id",
        /used twice/,
      ],
    ];
    for (const [delivery, field, message] of cases) {
      const res = await app.inject({
        method: "POST",
        url: "/api/campaigns",
        headers: staff,
        payload: campaign(delivery),
      });
      expect(res.statusCode, JSON.stringify(delivery)).toBe(400);
      const d = (res.json().details as { field: string; message: string }[]).find((x) => x.field === field);
      expect(d, `${field} in ${res.body}`).toBeDefined();
      expect(`${d!.field} ${d!.message}`).toMatch(message);
    }
  });

  it("shows a webhook secret once, at creation and rotation; never in reads, the audit or the log", async () => {
    const hook = { type: "webhook", id: "partner", url: "https://partner.example/hooks" };
    const made = await app.inject({
      method: "POST",
      url: "/api/campaigns",
      headers: staff,
      payload: campaign([hook]),
    });
    expect(made.statusCode).toBe(201);
    const [shown] = made.json().newSecrets as { target: string; secret: string }[];
    expect(shown).toMatchObject({ target: "partner", url: hook.url });
    expect(shown!.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(made.json().delivery).toEqual([
      {
        type: "webhook",
        id: "partner",
        url: hook.url,
        events: ["bundle.dropped", "takedowns.pending", "output.failed"],
        linkTtlSeconds: 86400,
      },
    ]);

    // An update that leaves delivery out keeps the target and its secret (nothing new is shown).
    const kept = await app.inject({
      method: "PUT",
      url: "/api/campaigns/drops",
      headers: staff,
      payload: { ...campaign(), name: "Drops 2" },
    });
    expect(kept.statusCode).toBe(200);
    expect(kept.json().newSecrets).toBeUndefined();
    expect(kept.json().delivery[0].id).toBe("partner");

    const rotated = await app.inject({
      method: "POST",
      url: "/api/campaigns/drops/delivery/partner/rotate-secret",
      headers: staff,
    });
    expect(rotated.statusCode).toBe(200);
    expect(rotated.headers["cache-control"]).toBe("no-store");
    const next = rotated.json().secret as string;
    expect(next).not.toBe(shown!.secret);
    // Both sign during the grace period, the new one first.
    expect(await createDeliveryStore(h.store).signingSecrets("drops", "partner")).toEqual([
      next,
      shown!.secret,
    ]);
    const missing = await app.inject({
      method: "POST",
      url: "/api/campaigns/drops/delivery/nope/rotate-secret",
      headers: staff,
    });
    expect(missing.statusCode).toBe(404);

    const reads = await Promise.all(
      ["/api/campaigns", "/api/campaigns/drops", "/api/audit", "/openapi.json"].map((url) =>
        app.inject({ method: "GET", url, headers: staff }),
      ),
    );
    for (const r of reads) {
      expect(r.statusCode).toBe(200);
      expect(r.body).not.toContain(shown!.secret);
      expect(r.body).not.toContain(next);
    }
    const logs = JSON.stringify(h.logLines);
    expect(logs).not.toContain(shown!.secret);
    expect(logs).not.toContain(next);
  });

  it("redeliver: 404 for no bundle, 409 when nothing failed, 202 re-queues a failed target", async () => {
    const quote = aQuote("q1", "s1");
    await saveAll(h.store, { speakers: [aSpeaker("s1")], quotes: [quote] });
    await app.inject({
      method: "POST",
      url: "/api/campaigns",
      headers: staff,
      payload: { ...campaign([{ type: "webhook", id: "hook", url: "http://127.0.0.1:9/none" }]), id: "redo" },
    });
    await anOutput(h.store, h.dataDir, quote, { campaignId: "redo" });
    const r = await exportSlot(
      { ...h.deps, deliver: h.queues.deliver },
      { campaignId: "redo", slot: new Date("2026-11-23T06:00:00Z"), actor: "staff1" },
    );
    if (r.status !== "written") throw new Error(r.status);
    const id = r.bundle.id;
    const jobId = `deliver-${id}-hook`;
    expect(await h.queues.deliver.getJob(jobId)).toBeDefined(); // the export queued it

    expect(
      (await app.inject({ method: "POST", url: "/api/bundles/b-nope-1/redeliver", headers: staff }))
        .statusCode,
    ).toBe(404);
    const early = await app.inject({ method: "POST", url: `/api/bundles/${id}/redeliver`, headers: staff });
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toContain("has no failed delivery");

    // The job's last attempt fails (nothing listens on port 9): recorded, and the bundle says failed.
    await (await h.queues.deliver.getJob(jobId))!.remove();
    await expect(
      deliver(
        { ...h.deps, publicUrl: "http://testimony.example", namedSecret: () => undefined },
        { event: "bundle.dropped", campaignId: "redo", targetId: "hook", subject: id },
        { number: 8, final: true },
      ),
    ).rejects.toThrow(/webhook hook \(http:\/\/127\.0\.0\.1:9\)/);
    const listed = await app.inject({ method: "GET", url: "/api/bundles?campaign=redo", headers: staff });
    expect(listed.json().items[0].delivery).toMatchObject({
      status: "failed",
      targets: [{ target: "hook", status: "failed", attempts: [{ attempt: 8, status: "failed" }] }],
    });
    const one = await app.inject({ method: "GET", url: `/api/bundles/${id}`, headers: staff });
    expect(one.json().delivery.status).toBe("failed");

    const again = await app.inject({
      method: "POST",
      url: `/api/bundles/${id}/redeliver`,
      headers: staff,
      payload: {},
    });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ bundleId: id, targets: ["hook"] });
    expect(await (await h.queues.deliver.getJob(jobId))!.getState()).toBe("waiting");
    const unknown = await app.inject({
      method: "POST",
      url: `/api/bundles/${id}/redeliver`,
      headers: staff,
      payload: { targets: ["other"] },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it("output.failed: raised from the audit entry, signed, with ids and the reason only", async () => {
    const got: { body: string; headers: Record<string, string> }[] = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      got.push({ body: Buffer.concat(chunks).toString(), headers: req.headers as Record<string, string> });
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/h`;
      const made = await app.inject({
        method: "POST",
        url: "/api/campaigns",
        headers: staff,
        payload: {
          ...campaign([{ type: "webhook", id: "ops", url, events: ["output.failed"] }]),
          id: "fails",
        },
      });
      const secret = made.json().newSecrets[0].secret as string;
      const quote = aQuote("q9", "s9");
      await saveAll(h.store, { speakers: [aSpeaker("s9")], quotes: [quote] });
      const o = await anOutput(h.store, h.dataDir, quote, { campaignId: "fails", status: "failed" });
      const cur = (await h.store.outputs.get(o.id))!;
      const failure = { reason: "cannot_fit" as const, message: "too long", at: o.updatedAt, attempts: 1 };
      await h.store.outputs.commit({ writes: [h.store.outputs.write({ ...o, failure }, cur)] });
      const added: { name: string; data: unknown; opts?: { jobId?: string } }[] = [];
      const queue = {
        add: async (name: string, data: unknown, opts?: { jobId?: string }) =>
          void added.push({ name, data, opts }),
        getJob: async () => undefined,
      };
      const n = await relayAuditEntries(h.store, queue as never, [
        {
          seq: "1700000000000-0",
          actor: "render-worker",
          action: "output.failed",
          entity: o.id,
          at: o.updatedAt,
        },
        // A bundle that is not there and a campaign without targets raise nothing.
        {
          seq: "1700000000000-1",
          actor: "x",
          action: "bundle.complete",
          entity: "b-none-1",
          at: o.updatedAt,
        },
      ]);
      expect(n).toBe(1);
      expect(added[0]!.opts!.jobId).toBe(`deliver-output_failed-${o.id}-1700000000000-0-ops`);
      await deliver(
        { ...h.deps, log: pino({ level: "silent" }), publicUrl: "http://x", namedSecret: () => undefined },
        added[0]!.data as never,
        { number: 1, final: false },
      );
      const event = new Webhook(secret).verify(got[0]!.body, got[0]!.headers) as {
        type: string;
        data: unknown;
      };
      expect(event).toMatchObject({
        type: "output.failed",
        data: {
          outputId: o.id,
          campaign: "fails",
          quoteId: "q9",
          format: "square",
          locale: "en",
          reason: "cannot_fit",
        },
      });
      // The quote's words and the speaker stay out of an operations event.
      expect(got[0]!.body).not.toContain(quote.text);
      expect(got[0]!.body).not.toContain("Pseudonym");
    } finally {
      server.close();
    }
  });
});
