import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, sendWebhook } from "../src/app/webhook.js";

type Got = { headers: IncomingMessage["headers"]; body: string };

/** A receiver as a partner would write it: verifies with the standardwebhooks package, answers `answers` in turn. */
async function receiver(secret: string, answers: number[]) {
  const got: Got[] = [];
  const verified: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      try {
        verified.push(new Webhook(secret).verify(body, req.headers as Record<string, string>));
      } catch {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(answers[Math.min(got.length - 1, answers.length - 1)] ?? 200).end("ok");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, verified, close: () => new Promise((r) => server.close(r)) };
}

const event = { type: "bundle.dropped", timestamp: "2026-11-30T03:00:00.000Z", data: { bundleId: "b-x-1" } };

describe("signed webhooks (Standard Webhooks)", () => {
  it("a consumer using the standardwebhooks package verifies every signature, also during key rotation", async () => {
    const secret = newWebhookSecret();
    const r = await receiver(secret, [200]);
    try {
      expect(await sendWebhook(r.url, [secret], "msg_1", event)).toEqual({ ok: true, status: 200 });
      // Rotation: the old and the new secret sign together; a consumer with either verifies.
      const next = newWebhookSecret();
      expect(await sendWebhook(r.url, [next, secret], "msg_2", event)).toEqual({ ok: true, status: 200 });
      expect(r.verified).toEqual([event, event]);
      expect(r.got[1]!.headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
      expect(r.got.map((g) => g.headers["webhook-id"])).toEqual(["msg_1", "msg_2"]);
      for (const g of r.got) expect(g.body).not.toContain(secret.slice(6));
    } finally {
      await r.close();
    }
  });

  it("a wrong secret fails the consumer's check; redirects and non-http URLs are refused, not followed", async () => {
    const r = await receiver(newWebhookSecret(), [200]);
    const redirect = createServer((_req, res) => res.writeHead(302, { location: r.url }).end());
    redirect.listen(0, "127.0.0.1");
    await once(redirect, "listening");
    try {
      expect(await sendWebhook(r.url, [newWebhookSecret()], "msg_3", event)).toEqual({
        ok: false,
        status: 401,
        error: "answered 401",
      });
      const port = (redirect.address() as AddressInfo).port;
      expect(await sendWebhook(`http://127.0.0.1:${port}/`, [newWebhookSecret()], "m", event)).toEqual({
        ok: false,
        status: 302,
        error: "answered 302 (a redirect, not followed)",
      });
      expect(r.got).toHaveLength(1); // the redirect's target was never called
      expect(await sendWebhook("file:///etc/passwd", [newWebhookSecret()], "m", event)).toMatchObject({
        ok: false,
        error: "the webhook URL must be http or https, not file:",
      });
    } finally {
      await r.close();
      await new Promise((res) => redirect.close(res));
    }
  });
});
