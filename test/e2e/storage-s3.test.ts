import { createHash } from "node:crypto";
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { changeVetting } from "../../src/app/quotes.service.js";
import { cardEntryName } from "../../src/export/manifest.js";
import { s3BlobStore } from "../../src/storage/s3.js";
import { freePort, until } from "../support/poll.js";
import { s3Reachable, testBucket } from "../support/s3.js";
import { unzip } from "../support/zip.js";
import { bin, e2eWorld, RoleProcess } from "./bin.js";

const SAMPLE = path.resolve("assets/sample");
const s3Up = await s3Reachable();
const cleanups: (() => Promise<void>)[] = [];
const roles: RoleProcess[] = [];
afterEach(async () => {
  for (const r of roles.splice(0)) await r.stop().catch(() => {});
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

type Dropped = { data: Record<string, unknown>; zip: Buffer; downloadStatus: number };

/**
 * A webhook consumer as the README shows one: verifies each request with the standardwebhooks package
 * (refusing anything that does not verify), and on bundle.dropped downloads the zip through the signed link.
 */
async function consumer(secret: () => string) {
  const dropped: Dropped[] = [];
  let refused = 0;
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    let event: { type: string; data: Record<string, unknown> };
    try {
      event = new Webhook(secret()).verify(body, req.headers as Record<string, string>) as typeof event;
    } catch {
      refused++;
      return res.writeHead(401).end();
    }
    if (event.type === "bundle.dropped") {
      const r = await fetch(String(event.data.url));
      dropped.push({ data: event.data, zip: Buffer.from(await r.arrayBuffer()), downloadStatus: r.status });
    }
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/testimony`,
    dropped,
    refused: () => refused,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ok = (r: { code: number | null; err: string; out: string }) => {
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
};

async function files(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => path.join(d.parentPath, d.name));
  } catch {
    return [];
  }
}

// Issue 15's "done when": machines simulated, each role with its own DATA_DIR, nothing shared but Redis
// and the bucket; the drop reaches a partner's webhook consumer.
describe.runIf(s3Up)(
  "roles on S3 storage with no shared folder, through the shipped binary",
  { timeout: 180_000 },
  () => {
    it("`start` and a second render worker (own DATA_DIRs), the drop by a third: every card byte-identical, and a webhook consumer verifies the event, downloads the zip through the signed link and it verifies", async () => {
      const w = await e2eWorld("s3");
      cleanups.push(() => w.dispose());
      const bucket = await testBucket("two-machines");
      cleanups.push(() => bucket.cleanup());
      const machine = (n: string) => ({
        ...w.env,
        ...bucket.env,
        DATA_DIR: path.join(w.dir, `machine-${n}`, "data"),
        EXPORT_DIR: path.join(w.dir, `machine-${n}`, "exports"),
      });
      // The CLI (staff, reviewer, the drop) is the third machine.
      const staff = { ...(await w.account("staff1", ["staff"])), ...machine("c") };
      const reviewer = { ...(await w.account("rev1", ["reviewer"])), ...machine("c") };

      // The sample campaign, with a webhook target that a partner's consumer listens on.
      let secret = "";
      const hook = await consumer(() => secret);
      cleanups.push(hook.close);
      const campaign = JSON.parse(await readFile(path.join(SAMPLE, "campaign.json"), "utf8"));
      campaign.delivery = [{ type: "folder" }, { type: "webhook", id: "partner", url: hook.url }];
      await copyFile(path.join(SAMPLE, campaign.brand.logo), path.join(w.dir, campaign.brand.logo));
      await writeFile(path.join(w.dir, "campaign.json"), JSON.stringify(campaign));

      ok(await bin(["speakers", "import", path.join(SAMPLE, "speakers.csv")], { env: staff }));
      ok(await bin(["quotes", "import", path.join(SAMPLE, "quotes.csv")], { env: staff }));
      const created = await bin(["campaigns", "create", path.join(w.dir, "campaign.json")], { env: staff });
      ok(created);
      secret = /webhook partner \(.+\) signing secret, shown only now: (whsec_\S+)/.exec(created.out)![1]!;
      const pending = JSON.parse(
        (await bin(["quotes", "list", "--state", "pending", "--all", "--json"], { env: staff })).out,
      ) as { id: string }[];
      for (const q of pending) await changeVetting(w.store, q.id, "vet", "staff1", "sample");

      // Machine a runs `testimony start` (every role: API, render, export, deliver, scheduler); machine b
      // a second render worker.
      const port = await freePort();
      const publicUrl = `http://127.0.0.1:${port}`;
      const a = new RoleProcess(["start", "--concurrency", "1"], {
        ...machine("a"),
        PORT: String(port),
        PUBLIC_URL: publicUrl,
      });
      const b = new RoleProcess(["work", "--queue", "render", "--concurrency", "1"], machine("b"));
      roles.push(a, b);
      await Promise.all([a.logged("testimony start is up"), b.logged("worker started")]);

      // Two quotes × the campaign's formats and locales: 8 outputs, shared out between the two workers.
      const queued = await bin(
        ["queue", "why-they-left", "--quote", "not-protecting-en", "not-holy-war-en"],
        {
          env: staff,
          deadlineMs: 90_000,
        },
      );
      ok(queued);
      const rendered = /rendered: (\d+), failed: 0/.exec(queued.out);
      expect(rendered, queued.out).not.toBeNull();
      const count = Number(rendered![1]);
      expect(count).toBe(8);
      // Both machines rendered, and neither wrote a card to its own disk: everything went to the bucket.
      expect(a.log).toContain("output rendered");
      expect(b.log).toContain("output rendered");
      expect(await files(machine("a").DATA_DIR)).toEqual([]);
      expect(await files(machine("b").DATA_DIR)).toEqual([]);

      const inReview = (
        JSON.parse((await bin(["review", "list", "--json", "--limit", "1000"], { env: staff })).out) as {
          items: { id: string }[];
        }
      ).items;
      ok(await bin(["review", "approve", ...inReview.map((o) => o.id)], { env: reviewer }));

      const drop = await bin(["export", "why-they-left", "--now"], { env: staff, deadlineMs: 60_000 });
      ok(drop);
      const [, bundleId, outputs] = /^(b-why-they-left-\d+): (\d+) outputs/m.exec(drop.out)!;
      const listed = JSON.parse((await bin(["bundles", "list", "--json"], { env: staff })).out) as {
        id: string;
        dir: string;
        outputIds: string[];
        zipSha256: string;
      }[];
      const bundle = listed.find((x) => x.id === bundleId)!;
      expect(bundle.outputIds).toHaveLength(Number(outputs));

      // The partner's consumer got bundle.dropped (verified), downloaded the zip through the signed link
      // (served by machine a from the bucket), and the zip is the one the manifests describe.
      const got = await until("bundle.dropped at the consumer", () => hook.dropped[0], 30_000);
      expect(hook.refused()).toBe(0);
      expect(got.downloadStatus).toBe(200);
      expect(got.data).toMatchObject({ bundleId, campaign: "why-they-left", zipSha256: bundle.zipSha256 });
      expect(String(got.data.url).startsWith(`${publicUrl}/d/`)).toBe(true);
      const bundles = s3BlobStore({ ...bucket.settings, prefix: `${bucket.settings.prefix}bundles/` });
      const sidecar = await bundles.get(`${bundle.dir}/manifest.json`);
      expect(sha(sidecar)).toBe(got.data.manifestSha256);
      const zipSha = sha(got.zip);
      expect(zipSha).toBe(got.data.zipSha256);
      expect((JSON.parse(sidecar.toString("utf8")) as { zip: { sha256: string } }).zip.sha256).toBe(zipSha);
      const zipFile = path.join(w.dir, "downloaded.zip");
      await writeFile(zipFile, got.zip);
      expect(got.zip.length).toBeGreaterThan(10_000);
      const verified = await bin(["bundles", "verify", zipFile], { env: staff });
      ok(verified);
      expect(verified.out).toMatch(/ok, \d+ entries match the manifest/);
      expect(a.log).not.toContain(secret);

      // Every card in the drop is byte-for-byte what its worker rendered (the sha256 it recorded) and
      // what the bucket holds under the output's key.
      const files_ = s3BlobStore(bucket.settings);
      const entries = await unzip(zipFile);
      for (const id of bundle.outputIds) {
        const out = (await w.store.outputs.get(id))!.value;
        const card = out.files!.card;
        const inBucket = await files_.get(card);
        const sum = createHash("sha256").update(inBucket).digest("hex");
        expect(sum).toBe(out.sha256![card]);
        const entry = entries.get(cardEntryName(out));
        expect(entry, `card of ${id} in the zip`).toBeDefined();
        expect(createHash("sha256").update(entry!).digest("hex")).toBe(sum);
      }
    });
  },
);
