import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { createCampaign, updateCampaign } from "../../src/app/campaigns.service.js";
import { bundleDeliveries } from "../../src/app/deliver.service.js";
import { s3BlobStore } from "../../src/storage/s3.js";
import { anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { freePort, until } from "../support/poll.js";
import { S3_ENV, s3Reachable, testBucket } from "../support/s3.js";
import { unzip } from "../support/zip.js";
import { bin, e2eWorld, RoleProcess } from "./bin.js";

const s3Up = await s3Reachable();
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const ok = (r: { code: number | null; err: string; out: string }) => {
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
};

type Received = {
  type: string;
  data: Record<string, unknown>;
  msgId: string;
  verified: boolean;
  status: number;
  download?: { status: number; sha256: string };
};

/**
 * A webhook consumer as a partner would write it: verifies every request with the standardwebhooks
 * package (the secret it was shown once), answers 500 to the first two tries of each message, and on the
 * third downloads the bundle through the signed link before answering 200.
 */
async function consumer(secrets: () => string[]) {
  const got: Received[] = [];
  const tries = new Map<string, number>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = req.headers as Record<string, string>;
    // Every secret the consumer holds must verify the request on its own.
    let event: { type: string; data: Record<string, unknown> } | undefined;
    let verified = secrets().length > 0;
    for (const s of secrets()) {
      try {
        event = new Webhook(s).verify(body, headers) as typeof event;
      } catch {
        verified = false;
      }
    }
    event ??= JSON.parse(body);
    const msgId = headers["webhook-id"]!;
    const n = (tries.get(msgId) ?? 0) + 1;
    tries.set(msgId, n);
    const status = !verified ? 401 : n <= 2 ? 500 : 200;
    const rec: Received = { type: event!.type, data: event!.data, msgId, verified, status };
    if (status === 200 && event!.type === "bundle.dropped") {
      const r = await fetch(String(event!.data.url));
      rec.download = { status: r.status, sha256: sha(Buffer.from(await r.arrayBuffer())) };
    }
    got.push(rec);
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/hooks/testimony`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const campaignFile = (delivery: unknown) => ({
  id: "why-they-left",
  name: "Why They Left",
  audience: { region: "UK", description: "test" },
  locales: ["en"],
  narratives: ["corruption"],
  formats: ["square"],
  brand: { background: "#102030", text: "#ffffff", accent: "#e0a526" },
  schedule: { cron: "0 9 * * 1", timeZone: "Asia/Baghdad" },
  exposure: { maxPerSpeakerPerDrop: 50 },
  delivery,
});

describe("deliveries through the shipped binary", { timeout: 120_000 }, () => {
  it("a webhook consumer verifies every event, gets each drop exactly once after two 500s, and downloads it through a link that expires and opens one bundle only", async () => {
    const w = await e2eWorld("deliver-webhook");
    cleanups.push(() => w.dispose());
    let secrets: string[] = [];
    const hook = await consumer(() => secrets);
    cleanups.push(hook.close);
    const staff = await w.account("staff1", ["staff"]);
    const quotes = [aQuote("q1", "s1"), aQuote("q2", "s2")];
    await saveAll(w.store, { speakers: [aSpeaker("s1"), aSpeaker("s2")], quotes });

    const file = path.join(w.dir, "campaign.json");
    await writeFile(
      file,
      JSON.stringify(
        campaignFile([
          { type: "folder" },
          { type: "webhook", id: "partner", url: hook.url, linkTtlSeconds: 8 },
        ]),
      ),
    );
    const created = await bin(["campaigns", "create", file], { env: staff });
    ok(created);
    const shown = /webhook partner \(.+\) signing secret, shown only now: (whsec_\S+)/.exec(created.out);
    expect(shown).not.toBeNull();
    const first = shown![1]!;
    secrets = [first];
    // Never again: not in the campaign as shown, nor in the campaign's stored JSON.
    const show = await bin(["campaigns", "show", "why-they-left"], { env: staff });
    ok(show);
    expect(show.out).toContain('"partner"');
    expect(show.out).not.toContain(first);

    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    const role = new RoleProcess(["start", "--concurrency", "1"], {
      ...w.env,
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      DELIVER_BACKOFF_MS: "150",
    });
    cleanups.push(async () => void (await role.stop()));
    await role.logged("testimony start is up");

    // Drop 1, then drop 2 in a later second (a drop in the same second is the same slot).
    await anOutput(w.store, w.env.DATA_DIR!, quotes[0]!, { campaignId: "why-they-left" });
    const drop1 = await bin(["export", "why-they-left", "--now"], { env: staff });
    ok(drop1);
    const b1 = /^(b-why-they-left-\d+): 1 outputs/m.exec(drop1.out)![1]!;
    await anOutput(w.store, w.env.DATA_DIR!, quotes[1]!, { campaignId: "why-they-left" });
    const b2 = await until(
      "a second bundle",
      async () => {
        const r = await bin(["export", "why-they-left", "--now"], { env: staff });
        ok(r);
        const m = /^(b-why-they-left-\d+): 1 outputs/m.exec(r.out);
        return m && m[1] !== b1 ? m[1] : undefined;
      },
      20_000,
      200,
    );

    const dropped = await until(
      "both drops delivered",
      () => {
        const done = hook.got.filter((g) => g.type === "bundle.dropped" && g.status === 200);
        return done.length === 2 && done;
      },
      30_000,
    );
    expect(hook.got.every((g) => g.verified)).toBe(true);
    const bundles = JSON.parse((await bin(["bundles", "list", "--json"], { env: staff })).out) as {
      id: string;
      dir: string;
      zipSha256: string;
      delivery: {
        status: string;
        targets: { target: string; attempts: { attempt: number; status: string }[] }[];
      };
    }[];
    for (const id of [b1, b2]) {
      const b = bundles.find((x) => x.id === id)!;
      const ev = dropped.find((d) => d.data.bundleId === id)!;
      // Exactly once: three tries of one message (same webhook-id), the third answered 200.
      expect(hook.got.filter((g) => g.msgId === ev.msgId).map((g) => g.status)).toEqual([500, 500, 200]);
      expect(b.delivery.status).toBe("delivered");
      expect(b.delivery.targets[0]!.attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, "retrying"],
        [2, "retrying"],
        [3, "delivered"],
      ]);
      const dir = path.join(w.env.EXPORT_DIR!, b.dir);
      expect(ev.data).toMatchObject({
        bundleId: id,
        campaign: "why-they-left",
        zipSha256: b.zipSha256,
        manifestSha256: sha(await readFile(path.join(dir, "manifest.json"))),
        counts: { outputs: 1, takedowns: 0 },
      });
      expect(String(ev.data.url).startsWith(`${publicUrl}/d/`)).toBe(true);
      expect(ev.download).toEqual({ status: 200, sha256: sha(await readFile(path.join(dir, "bundle.zip"))) });
    }
    // A link opens its own bundle only: a changed character, or the token used for another bundle, is refused.
    const link1 = String(dropped.find((d) => d.data.bundleId === b1)!.data.url);
    const token1 = link1.split("/d/")[1]!;
    const flipped = `${token1.slice(0, 10)}${token1[10] === "A" ? "B" : "A"}${token1.slice(11)}`;
    expect((await fetch(`${publicUrl}/d/${flipped}`)).status).toBe(401);
    const other = await fetch(`${publicUrl}/api/bundles/${b2}/download`, {
      headers: { authorization: `Bearer ${token1}` },
    });
    expect(other.status).toBe(401);

    // A withdrawal makes takedowns: takedowns.pending, signed with the rotated secret and the old one.
    const rotated = await bin(["campaigns", "rotate-secret", "why-they-left", "partner"], { env: staff });
    ok(rotated);
    const second = /shown only now: (whsec_\S+)/.exec(rotated.out)![1]!;
    expect(second).not.toBe(first);
    secrets = [first, second];
    const consent = await w.account("consent1", ["admin"]);
    ok(await bin(["speakers", "withdraw", "s1", "--reason", "asked"], { env: consent }));
    const takedown = await until(
      "takedowns.pending",
      () => hook.got.find((g) => g.type === "takedowns.pending" && g.status === 200),
      20_000,
    );
    expect(takedown.verified).toBe(true);
    expect(takedown.data).toMatchObject({ campaign: "why-they-left", requested: ["o-q1-square"] });
    expect(takedown.data.pending).toContain("o-q1-square");

    // The link stops at its expiry (8 s after it was made).
    const expired = await until(
      "the link to expire",
      async () => {
        const r = await fetch(link1);
        await r.arrayBuffer();
        return r.status === 401 && r;
      },
      20_000,
      250,
    );
    expect(expired.status).toBe(401);
    // No secret in the role's log.
    expect(role.log).not.toContain(first);
    expect(role.log).not.toContain(second);
  });

  it.runIf(s3Up)(
    "an s3 target receives the zip and both manifests; a wrong secret is a recorded failure, redelivered once fixed",
    async () => {
      const w = await e2eWorld("deliver-s3");
      cleanups.push(() => w.dispose());
      const bucket = await testBucket("deliver");
      cleanups.push(() => bucket.cleanup());
      const staff = await w.account("staff1", ["staff"]);
      const target = (id: string, secretEnv: string) => ({
        type: "s3",
        id,
        bucket: bucket.settings.bucket,
        prefix: `${id}/drops`,
        endpoint: S3_ENV.S3_ENDPOINT,
        region: S3_ENV.S3_REGION,
        accessKeyIdEnv: "DELIVERY_PARTNER_KEY",
        secretAccessKeyEnv: secretEnv,
      });
      await createCampaign(
        w.store,
        campaignFile([target("archive", "DELIVERY_PARTNER_SECRET"), target("backup", "DELIVERY_OLD_SECRET")]),
        "staff1",
      );
      const quote = aQuote("q1", "s1");
      await saveAll(w.store, { speakers: [aSpeaker("s1")], quotes: [quote] });
      await anOutput(w.store, w.env.DATA_DIR!, quote, { campaignId: "why-they-left" });

      const wrong = "not-the-secret-xq7";
      const worker = new RoleProcess(["work", "--queue", "deliver"], {
        ...w.env,
        DELIVER_BACKOFF_MS: "150",
        DELIVERY_PARTNER_KEY: S3_ENV.S3_ACCESS_KEY_ID,
        DELIVERY_PARTNER_SECRET: S3_ENV.S3_SECRET_ACCESS_KEY,
        DELIVERY_OLD_SECRET: wrong,
      });
      cleanups.push(async () => void (await worker.stop()));
      await worker.logged("worker started");
      const drop = await bin(["export", "why-they-left", "--now"], { env: staff });
      ok(drop);
      const id = /^(b-why-they-left-\d+): 1 outputs/m.exec(drop.out)![1]!;

      type Listed = {
        id: string;
        dir: string;
        delivery: {
          status: string;
          targets: { target: string; status: string; attempts: { status: string; error?: string }[] }[];
        };
      };
      // Polled through the store (a spawn per poll is slow on a busy machine); the CLI is read once below.
      const listed = async (): Promise<Listed> => {
        const b = (await w.store.bundles.get(id))!.value;
        return { ...b, delivery: (await bundleDeliveries(w.store, [b])).get(id)! };
      };
      const failed = await until(
        "archive delivered, backup failed",
        async () => {
          const b = await listed();
          const st = Object.fromEntries(b.delivery.targets.map((t) => [t.target, t.status]));
          return st.archive === "delivered" && st.backup === "failed" && b;
        },
        30_000,
        200,
      );
      expect(failed.delivery.status).toBe("failed");
      const backup = failed.delivery.targets.find((t) => t.target === "backup")!;
      // A wrong secret is permanent: one attempt, a clear reason naming the variable, never the secret.
      expect(backup.attempts).toHaveLength(1);
      expect(backup.attempts[0]!.error).toMatch(
        /refused \(SignatureDoesNotMatch\): check the credentials in DELIVERY_PARTNER_KEY and DELIVERY_OLD_SECRET/,
      );
      const table = await bin(["bundles", "list"], { env: staff });
      expect(table.out).toMatch(/failed \(backup: 1 attempts\)/);
      const json = JSON.parse((await bin(["bundles", "list", "--json"], { env: staff })).out) as Listed[];
      expect(json.find((b) => b.id === id)!.delivery).toEqual(failed.delivery);
      expect(worker.log).not.toContain(wrong);
      expect(worker.log).not.toContain(S3_ENV.S3_SECRET_ACCESS_KEY);
      expect(worker.child.exitCode).toBeNull(); // not a crash

      // The zip and both manifests, byte for byte.
      const dir = path.join(w.env.EXPORT_DIR!, failed.dir);
      const got = s3BlobStore({ ...bucket.settings, prefix: "archive/drops/" });
      const zip = await got.get(`${failed.dir}/bundle.zip`);
      expect(sha(zip)).toBe(sha(await readFile(path.join(dir, "bundle.zip"))));
      expect(
        (await got.get(`${failed.dir}/manifest.json`)).equals(
          await readFile(path.join(dir, "manifest.json")),
        ),
      ).toBe(true);
      const inZip = (await unzip(path.join(dir, "bundle.zip"))).get("manifest.json")!;
      expect((await got.get(`${failed.dir}/bundle-manifest.json`)).equals(inZip)).toBe(true);

      // Fixed (the target now names the right variable), then redelivered: delivered on its second attempt.
      const stored = (await w.store.campaigns.get("why-they-left"))!.value;
      await updateCampaign(
        w.store,
        {
          ...stored,
          delivery: [
            target("archive", "DELIVERY_PARTNER_SECRET"),
            target("backup", "DELIVERY_PARTNER_SECRET"),
          ],
        },
        "staff1",
      );
      const re = await bin(["bundles", "redeliver", id], { env: staff });
      ok(re);
      expect(re.out).toContain(`${id}: delivery queued again to backup`);
      const fixed = await until(
        "backup delivered",
        async () => {
          const b = await listed();
          return b.delivery.status === "delivered" && b;
        },
        20_000,
        200,
      );
      expect(
        fixed.delivery.targets.find((t) => t.target === "backup")!.attempts.map((a) => a.status),
      ).toEqual(["failed", "delivered"]);
      const backupGot = s3BlobStore({ ...bucket.settings, prefix: "backup/drops/" });
      expect(sha(await backupGot.get(`${failed.dir}/bundle.zip`))).toBe(sha(zip));
      // Nothing failed left: redeliver without a target is refused with why.
      const none = await bin(["bundles", "redeliver", id], { env: staff });
      expect(none.code).toBe(1);
      expect(none.err).toContain("has no failed delivery");
    },
  );
});
