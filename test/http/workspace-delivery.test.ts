import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver } from "../../src/app/deliver.service.js";
import { exportSlot } from "../../src/app/export.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { createDeliveryStore } from "../../src/store/delivery.store.js";
import { anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { type Session, siteClient, startSite } from "../support/site.js";
import { type Harness, makeUser } from "./fixtures.js";

/**
 * Delivery targets in the workspace over a real socket: the campaign form's Delivery fieldset (add,
 * keep, remove; the schema's errors beside their fields), a webhook secret shown once on the page that
 * answers the post and never again, "Rotate secret", and the drops page's delivery per target with
 * "Redeliver"; 401/403 per role and CSRF refusals on each action.
 */
let h: Harness;
let server: RunningServer;
let staff: Session;
let reviewer: Session;
const site = siteClient(() => server.url);
const signIn = (token: string) => site.signIn(token);
const { get } = site;
const post = (
  path: string,
  s: Session | undefined,
  form: Record<string, string | string[]> = {},
  csrf = true,
) => site.post(path, s, form, { csrf });

/** The campaign form as a browser posts it, with the Delivery fieldset's rows. */
const FORM = {
  id: "hooked",
  name: "Hooked",
  region: "UK",
  locales: "en",
  narratives: "corruption",
  formats: "square",
  textVariants: ["post", "caption", "alt_text"],
  background: "#102030",
  text: "#ffffff",
  accent: "#e0a526",
  cron: "0 9 * * 1",
  timeZone: "UTC",
  maxPerDrop: "3",
  encoding: "png",
  delivery: "1",
};
const EVENTS = ["bundle.dropped", "takedowns.pending", "output.failed"];
const SECRET = /whsec_[A-Za-z0-9+/=]{32}/g;

beforeAll(async () => {
  ({ h, server } = await startSite("http-ws-delivery"));
  staff = await signIn((await makeUser(h, "staff1", ["staff"])).token);
  reviewer = await signIn((await makeUser(h, "rev1", ["reviewer"])).token);
});
afterAll(async () => {
  await h.queues.deliver.obliterate({ force: true }).catch(() => {});
  await h.close(server);
});

describe("the campaign form's delivery targets", () => {
  it("refuses a bad target with the schema's errors beside the fields of its row; nothing stored", async () => {
    const res = await post("/workspace/campaigns", staff, {
      ...FORM,
      d0_type: "folder",
      d0_id: "folder",
      d1_new: "1",
      d1_type: "s3",
      d1_bucket: "Not A Bucket",
      d1_keyEnv: "REDIS_URL",
      d1_secretEnv: "DELIVERY_SECRET",
      d2_new: "1",
      d2_type: "webhook",
      d2_url: "ftp://partner.example/x",
      d2_ttl: "soon",
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    const err = (id: string) =>
      new RegExp(`<span class="field-error" id="${id}">([^<]*)</span>`).exec(html)?.[1];
    expect(err("e-d1-bucket")).toMatch(/S3 bucket name/);
    expect(err("e-d1-keyEnv")).toMatch(/starting with DELIVERY_/);
    expect(err("e-d1-secretEnv")).toBeUndefined();
    expect(err("e-d2-url")).toMatch(/http\(s\) URL/);
    expect(err("e-d2-ttl")).toMatch(/number/);
    // The field says it is invalid and points at its message; the typed values stay.
    expect(html).toMatch(
      /id="d1-keyEnv" name="d1_keyEnv" value="REDIS_URL" aria-invalid="true" aria-describedby="e-d1-keyEnv"/,
    );
    expect(html).toContain('value="ftp://partner.example/x"');
    expect(await h.store.campaigns.get("hooked")).toBeUndefined();
  });

  it("shows a new webhook's secret once (no-store, not in a URL), keeps targets on edit, rotates, removes", async () => {
    const made = await post("/workspace/campaigns", staff, {
      ...FORM,
      d0_type: "folder",
      d0_id: "folder",
      d1_new: "1",
      d1_type: "webhook",
      d1_id: "partner",
      d1_url: "https://partner.example/hooks",
      d1_events: EVENTS,
      d1_ttl: "3600",
    });
    expect(made.status).toBe(200);
    expect(made.headers.get("cache-control")).toBe("no-store");
    expect(made.headers.get("location")).toBeNull();
    const page = await made.text();
    const shown = page.match(SECRET) ?? [];
    expect(new Set(shown).size).toBe(1);
    const secret = shown[0]!;
    expect(await createDeliveryStore(h.store).signingSecrets("hooked", "partner")).toEqual([secret]);
    expect(page).toMatch(/action="\/workspace\/campaigns\/hooked\/delivery\/partner\/rotate-secret"/);
    const stored = (await h.store.campaigns.get("hooked"))!.value;
    expect(stored.delivery).toEqual([
      { type: "folder", id: "folder" },
      {
        type: "webhook",
        id: "partner",
        url: "https://partner.example/hooks",
        events: EVENTS,
        linkTtlSeconds: 3600,
      },
    ]);

    // Never again: the edit form, the list, the campaign's API read.
    for (const path of [
      "/workspace/campaigns/hooked/edit",
      "/workspace/campaigns",
      "/workspace/campaigns/hooked/drops",
    ]) {
      const later = await get(path, staff);
      expect(later.status).toBe(200);
      expect((await later.text()).match(SECRET)).toBeNull();
    }
    const edit = await (await get("/workspace/campaigns/hooked/edit", staff)).text();
    expect(edit).toContain('name="d1_url" type="url" value="https://partner.example/hooks"');
    expect(edit).toMatch(/<button type="submit" form="rotate-1" class="rotate-secret">Rotate secret/);

    // An edit of other fields, with the rows as the form shows them, keeps the targets and the secret.
    const rows = {
      d0_type: "folder",
      d0_id: "folder",
      d1_type: "webhook",
      d1_id: "partner",
      d1_url: "https://partner.example/hooks",
      d1_events: EVENTS,
      d1_ttl: "3600",
      d2_new: "1",
      d2_type: "",
    };
    const saved = await post("/workspace/campaigns/hooked", staff, { ...FORM, name: "Hooked 2", ...rows });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/workspace/campaigns?done=saved");
    const after = (await h.store.campaigns.get("hooked"))!.value;
    expect(after.name).toBe("Hooked 2");
    expect(after.delivery).toEqual(stored.delivery);
    expect(await createDeliveryStore(h.store).signingSecrets("hooked", "partner")).toEqual([secret]);
    // A post without the fieldset at all (an older page) keeps them too.
    const { delivery: _, ...withoutFieldset } = FORM;
    expect(
      (await post("/workspace/campaigns/hooked", staff, { ...withoutFieldset, name: "Hooked 3" })).status,
    ).toBe(303);
    expect((await h.store.campaigns.get("hooked"))!.value.delivery).toEqual(stored.delivery);

    // Rotate: 401 without a session, 403 for reviewers and without the CSRF token, then a new secret once.
    const rotate = "/workspace/campaigns/hooked/delivery/partner/rotate-secret";
    expect((await post(rotate, undefined)).status).toBe(401);
    expect((await post(rotate, reviewer)).status).toBe(403);
    expect((await post(rotate, staff, {}, false)).status).toBe(403);
    expect(await createDeliveryStore(h.store).signingSecrets("hooked", "partner")).toEqual([secret]);
    const rotated = await post(rotate, staff);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get("cache-control")).toBe("no-store");
    const next = (await rotated.text()).match(SECRET)![0];
    expect(next).not.toBe(secret);
    expect(await createDeliveryStore(h.store).signingSecrets("hooked", "partner")).toEqual([next, secret]);
    expect((await post("/workspace/campaigns/hooked/delivery/nope/rotate-secret", staff)).status).toBe(404);
    const audit = await h.store.audit.list({ entity: "hooked" });
    expect(audit.map((a) => a.action)).toContain("campaign.webhook_secret_rotated");
    expect(JSON.stringify(audit)).not.toContain(next);
    expect(JSON.stringify(h.logLines)).not.toContain(next);
    expect(JSON.stringify(h.logLines)).not.toContain(secret);

    // The form itself: reviewers 403, no CSRF 403; removing the webhook deletes its secret.
    expect((await post("/workspace/campaigns/hooked", reviewer, { ...FORM, ...rows })).status).toBe(403);
    expect((await post("/workspace/campaigns/hooked", staff, { ...FORM, ...rows }, false)).status).toBe(403);
    const removed = await post("/workspace/campaigns/hooked", staff, { ...FORM, ...rows, d1_remove: "1" });
    expect(removed.status).toBe(303);
    expect((await h.store.campaigns.get("hooked"))!.value.delivery).toEqual([
      { type: "folder", id: "folder" },
    ]);
    expect(await createDeliveryStore(h.store).signingSecrets("hooked", "partner")).toEqual([]);
  });
});

describe("the drops page's delivery per target", () => {
  it("shows a failed webhook delivery with its attempts and error; Redeliver queues it again (bundles:write, CSRF)", async () => {
    const quote = aQuote("q1", "s1");
    await saveAll(h.store, { speakers: [aSpeaker("s1")], quotes: [quote] });
    const made = await post("/workspace/campaigns", staff, {
      ...FORM,
      id: "redo",
      name: "Redo",
      d0_new: "1",
      d0_type: "webhook",
      d0_id: "hook",
      d0_url: "http://127.0.0.1:9/none",
      d0_events: EVENTS,
    });
    expect(made.status).toBe(200);
    await anOutput(h.store, h.dataDir, quote, { campaignId: "redo" });
    const r = await exportSlot(
      { ...h.deps, deliver: h.queues.deliver },
      { campaignId: "redo", slot: new Date("2026-11-23T06:00:00Z"), actor: "staff1" },
    );
    if (r.status !== "written") throw new Error(r.status);
    const id = r.bundle.id;
    const jobId = `deliver-${id}-hook`;
    await (await h.queues.deliver.getJob(jobId))?.remove();

    const pending = await (await get("/workspace/campaigns/redo/drops", staff)).text();
    expect(pending).toMatch(
      /data-target="hook">[\s\S]*?<span class="badge">pending<\/span> <span class="small">0 attempts/,
    );
    expect(pending).not.toContain("redeliver");

    // The last attempt fails (nothing listens on port 9): recorded by the deliver code itself.
    await expect(
      deliver(
        { ...h.deps, publicUrl: "http://testimony.example", namedSecret: () => undefined },
        { event: "bundle.dropped", campaignId: "redo", targetId: "hook", subject: id },
        { number: 8, final: true },
      ),
    ).rejects.toThrow(/webhook hook/);
    const failed = await (await get("/workspace/campaigns/redo/drops", staff)).text();
    const cell =
      /<li class="delivery delivery-failed" data-target="hook">([\s\S]*?)<\/li>/.exec(failed)?.[1] ?? "";
    expect(cell).toContain('<span class="badge">failed</span>');
    expect(cell).toContain("1 attempt");
    expect(cell).toMatch(/Last error: webhook hook \(http:\/\/127\.0\.0\.1:9\)/);
    const action = `/workspace/campaigns/redo/bundles/${id}/redeliver`;
    expect(cell).toContain(`action="${action}"`);
    // Reviewers read the delivery but get no button, and 403 on the post.
    const forReviewer = await (await get("/workspace/campaigns/redo/drops", reviewer)).text();
    expect(forReviewer).toContain("delivery-failed");
    expect(forReviewer).not.toContain(action);

    expect((await post(action, undefined, { target: "hook" })).status).toBe(401);
    expect((await post(action, reviewer, { target: "hook" })).status).toBe(403);
    expect((await post(action, staff, { target: "hook" }, false)).status).toBe(403);
    expect(
      (await post(`/workspace/campaigns/hooked/bundles/${id}/redeliver`, staff, { target: "hook" })).status,
    ).toBe(404);
    expect(await h.queues.deliver.getJob(jobId)).toBeUndefined();

    const again = await post(action, staff, { target: "hook" });
    expect(again.status).toBe(303);
    const to = again.headers.get("location")!;
    expect(to).toBe(`/workspace/campaigns/redo/drops?done=redelivered&b=${id}&t=hook`);
    expect(await (await h.queues.deliver.getJob(jobId))!.getState()).toBe("waiting");
    const status = /<div id="status"[^>]*>([^<]*)<\/div>/.exec(await (await get(to, staff)).text())?.[1];
    expect(status).toBe(`Bundle ${id} queued for delivery to hook again.`);
    expect((await h.store.audit.list({ entity: id })).map((a) => a.action)).toContain("bundle.redelivery");
  });
});
