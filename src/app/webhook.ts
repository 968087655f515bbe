import { createHmac, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/**
 * Standard Webhooks (standardwebhooks.com): headers webhook-id, webhook-timestamp and webhook-signature,
 * the signature "v1,<base64 HMAC-SHA256 over id.timestamp.body>" with the secret's bytes; secrets are
 * "whsec_<base64>"; several space-separated signatures during a key rotation.
 */
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

export function webhookSecretBytes(secret: string): Buffer {
  const m = /^whsec_([A-Za-z0-9+/=]{16,})$/.exec(secret);
  if (!m) throw new Error("a webhook secret looks like whsec_<base64>");
  return Buffer.from(m[1]!, "base64");
}

export function signWebhook(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((s) =>
      createHmac("sha256", webhookSecretBytes(s)).update(`${id}.${timestamp}.${body}`).digest("base64"),
    )
    .map((sig) => `v1,${sig}`)
    .join(" ");
}

export type WebhookEvent = { type: string; timestamp: string; data: Record<string, unknown> };
export type WebhookResult = { ok: true; status: number } | { ok: false; status?: number; error: string };

const DEADLINE_MS = 10_000;

/**
 * One POST of a signed event. http(s) URLs only; a redirect is not followed (it counts as a failure, so a
 * receiver cannot bounce the body elsewhere); a 10 s deadline; the answer's body is not read beyond 1 KiB.
 * The error says what happened without the secret.
 */
export async function sendWebhook(
  url: string,
  secrets: string[],
  msgId: string,
  event: WebhookEvent,
  now = new Date(),
): Promise<WebhookResult> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, error: "the webhook URL is not a URL" };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return { ok: false, error: `the webhook URL must be http or https, not ${u.protocol}` };
  }
  const body = JSON.stringify(event);
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "user-agent": "testimony-webhooks",
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(secrets, msgId, timestamp, body),
  };
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<WebhookResult>((resolve) => {
    const req = send(u, { method: "POST", headers, timeout: DEADLINE_MS }, (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on("data", (c: Buffer) => {
        read += c.length;
        if (read > 1024) res.destroy();
      });
      res.on("close", () => {
        if (status >= 200 && status < 300) resolve({ ok: true, status });
        else if (status >= 300 && status < 400)
          resolve({ ok: false, status, error: `answered ${status} (a redirect, not followed)` });
        else resolve({ ok: false, status, error: `answered ${status}` });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${DEADLINE_MS / 1000} s`)));
    req.on("error", (err) => resolve({ ok: false, error: err.message }));
    req.end(body);
  });
}
