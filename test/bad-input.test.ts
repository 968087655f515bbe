import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCampaign } from "../src/app/campaigns.service.js";
import { importQuotes, importSpeakers } from "../src/app/import.service.js";
import { buildApp, type Harness, harness, makeUser } from "./http/fixtures.js";
import { cli } from "./support/cli.js";
import { keysUnder } from "./support/redis.js";

/**
 * The bad-input corpus: every file under test/fixtures/bad (and every input generated below) is
 * submitted the way a person would submit it, and must be refused with an error that names what is
 * wrong and where, without writing anything to Redis or to DATA_DIR/EXPORT_DIR.
 * The cases, and the exact fragments each error must contain, are in test/fixtures/bad/cases.json.
 */

const BAD = "test/fixtures/bad";
type Role = "staff" | "reviewer" | "admin";
/** A file (or a generated input) and the fragments its error must contain. */
type FileCase = { file?: string; generate?: string; expect: string[]; api?: boolean };
/** A request body (the file, sent as is) and the route it goes to. */
type ApiCase = FileCase & {
  method: "POST" | "PUT";
  url: string;
  as: Role;
  contentType?: string;
  status: number;
  /** A field path that must be among the error's details. */
  field?: string;
};
type CliCase = { name: string; argv: string[]; expect: string[] };
type Cases = {
  quotes: FileCase[];
  speakers: FileCase[];
  campaigns: FileCase[];
  api: ApiCase[];
  cli: CliCase[];
};

const cases = JSON.parse(await readFile(path.join(BAD, "cases.json"), "utf8")) as Cases;
const label = (c: FileCase) => c.file ?? `generated ${c.generate}`;

let h: Harness;
let app: FastifyInstance;
let tmp = ""; // generated inputs
let cliData = ""; // the CLI's DATA_DIR and EXPORT_DIR
const users = {} as Record<Role, { token: string; auth: { authorization: string } }>;
let baseline: string[] = [];

beforeAll(async () => {
  h = await harness("bad-input");
  app = buildApp(h.deps);
  await app.ready();
  tmp = await mkdtemp(path.join(tmpdir(), "testimony-bad-input-"));
  cliData = await mkdtemp(path.join(tmpdir(), "testimony-bad-input-data-"));
  users.staff = await makeUser(h, "bad-staff", ["staff"]);
  users.reviewer = await makeUser(h, "bad-reviewer", ["reviewer"]);
  users.admin = await makeUser(h, "bad-admin", ["admin"]);
  await importSpeakers(h.store, await readFile("assets/sample/speakers.csv"), "speakers.csv", "setup");
  await importQuotes(h.store, await readFile("assets/sample/quotes.csv"), "quotes.csv", "setup");
  const campaign = JSON.parse(await readFile("assets/sample/campaign.json", "utf8"));
  campaign.brand.logo = path.resolve("assets/sample/logo.svg");
  await createCampaign(h.store, campaign, "setup");
  baseline = await files();
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  await rm(cliData, { recursive: true, force: true });
  await h?.close(app);
});

/** Every key under the test prefix with a digest of its value: equal snapshots mean nothing was written. */
async function snapshot(): Promise<string[]> {
  const keys = await keysUnder(h.redis, h.prefix);
  const pipe = h.redis.pipeline();
  for (const k of keys) pipe.dumpBuffer(k);
  const dumps = (await pipe.exec()) ?? [];
  return keys.map((k, i) => {
    const value = dumps[i]?.[1] as Buffer | null;
    return `${k} ${value ? createHash("sha1").update(value).digest("hex") : "gone"}`;
  });
}

/** Every file under the app's DATA_DIR (EXPORT_DIR is inside it) and the CLI's DATA_DIR/EXPORT_DIR. */
async function files(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of [h.dataDir, cliData]) {
    for (const f of await readdir(dir, { recursive: true }).catch(() => [])) out.push(path.join(dir, f));
  }
  return out.sort();
}

/** Runs one submission and checks that Redis and the data directories are exactly as before. */
async function writesNothing<T>(submit: () => Promise<T>): Promise<T> {
  const before = await snapshot();
  const result = await submit();
  expect(await snapshot(), "nothing written to Redis").toEqual(before);
  expect(await files(), "no file written").toEqual(baseline);
  return result;
}

// ---- generated inputs: binary, oversize, or simply too big to commit --------------------------------

const QUOTE_HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at";
const quoteRow = (id: string, narrative = "brutality", text = "I was horrified by what I saw") =>
  `${id},leena,${text},en,${narrative},#WhyTheyLeftDaesh,Think Again Turn Away,,2015-09-21`;
const png = () =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: "#336699" } })
    .png()
    .toBuffer();
const sampleCampaign = async () => {
  const c = JSON.parse(await readFile("assets/sample/campaign.json", "utf8"));
  delete c.brand.logo;
  return { ...c, id: "generated-campaign" };
};
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

const GENERATORS: Record<string, () => Promise<Buffer> | Buffer> = {
  /** Every byte value in order: valid UTF-8 up to 0x7f, which is on line 2 (after 0x0a). */
  "bytes-0-255.csv": () => Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  "png-renamed.csv": png,
  "png-renamed.json": png,
  /** What Excel's "Unicode text" writes: UTF-16LE with a byte-order mark. */
  "utf16.csv": () =>
    Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`${QUOTE_HEADER}\n${quoteRow("u16-1")}\n`, "utf16le"),
    ]),
  /** 5 MB of good rows with one bad narrative near the end: still refused whole, on the right line. */
  "big-5mb.csv": () => {
    const rows = [QUOTE_HEADER];
    for (let i = 0; rows.length < 48_000; i++) rows.push(quoteRow(`big-${i}`, "brutality", "x".repeat(60)));
    rows.push(quoteRow("big-bad", "glory"));
    for (let i = 0; i < 10; i++) rows.push(quoteRow(`big-tail-${i}`));
    return Buffer.from(`${rows.join("\n")}\n`);
  },
  /** 5 MB where every row is bad: the error must stay readable, not list 40,000 lines. */
  "all-bad-5mb.csv": () => {
    const rows = [QUOTE_HEADER];
    for (let i = 0; rows.length < 48_000; i++) rows.push(quoteRow(`bad-${i}`, "glory", "y".repeat(60)));
    return Buffer.from(`${rows.join("\n")}\n`);
  },
  /** A 5 MB JSON array: one bad element at the end, named by its line. */
  "big-5mb.json": () => {
    const items = Array.from({ length: 30_000 }, (_, i) => ({
      id: `bigj-${i}`,
      speakerId: "leena",
      text: "z".repeat(60),
      locale: "en",
      narrative: i === 29_999 ? "glory" : "brutality",
      source: { title: "#WhyTheyLeftDaesh", publisher: "Think Again Turn Away", publishedAt: "2015-09-21" },
    }));
    return Buffer.from(`[\n${items.map((x) => JSON.stringify(x)).join(",\n")}\n]\n`);
  },
  "deeply-nested.json": () => Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`),
  "speakers-png-renamed.csv": png,
  "name-2000-characters.json": async () => json({ ...(await sampleCampaign()), name: "N".repeat(2000) }),
  "campaign-png-renamed.json": png,
  /** Over the API's 10 MB body limit. */
  "body-12mb.json": () =>
    json({
      file: "quotes.csv",
      content: `${QUOTE_HEADER}\n${quoteRow("huge", "brutality", "w".repeat(12_000_000))}`,
    }),
  /** Under the body limit, over the 5 MB import limit. */
  "import-content-over-5mb.json": () =>
    json({
      file: "quotes.csv",
      content: `${QUOTE_HEADER}\n${quoteRow("over", "brutality", "v".repeat(5_100_000))}`,
    }),
  "bulk-approve-5000-ids.json": () => json({ ids: Array.from({ length: 5000 }, (_, i) => `o-${i}`) }),
  "campaign-50000-hashtags.json": async () =>
    json({ ...(await sampleCampaign()), hashtags: Array.from({ length: 50_000 }, (_, i) => `#Tag${i}`) }),
  /** A good logo on a bad campaign: the logo must not be stored either. */
  "campaign-valid-logo-bad-cron.json": async () => {
    const c = await sampleCampaign();
    const logo = `data:image/png;base64,${(await png()).toString("base64")}`;
    return json({ ...c, brand: { ...c.brand, logo }, schedule: { ...c.schedule, cron: "99 * * * *" } });
  },
  "binary-body.bin": () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)),
};

/** The bytes of a case and a path to them (generated inputs are written to the temp dir first). */
async function input(c: FileCase): Promise<{ bytes: Buffer; file: string }> {
  if (c.file) return { bytes: await readFile(path.join(BAD, c.file)), file: path.join(BAD, c.file) };
  const make = GENERATORS[c.generate ?? ""];
  if (!make) throw new Error(`no generator ${c.generate}`);
  const file = path.join(tmp, c.generate!);
  const bytes = await make();
  await writeFile(file, bytes);
  return { bytes, file };
}

function expectFragments(text: string, fragments: string[], what: string) {
  expect(fragments.length, `${what}: the case names what the error must say`).toBeGreaterThan(0);
  for (const f of fragments) expect(text, `${what} names: ${f}`).toContain(f);
}

/** CLI: exit code 2, nothing on stdout, the error on stderr. */
async function refusedByCli(argv: string[], fragments: string[], what: string) {
  const r = await writesNothing(() =>
    cli(h.prefix, argv, {
      DATA_DIR: cliData,
      EXPORT_DIR: path.join(cliData, "exports"),
      TESTIMONY_TOKEN: users.staff.token,
    }),
  );
  expect(r.out, `${what}: stdout`).toBe("");
  expect(r.err, `${what}: stderr`).toMatch(/^error: /);
  expectFragments(r.err, fragments, what);
  expect(r.err.length, `${what}: a readable error, not a dump`).toBeLessThan(40_000);
  expect(r.code, `${what}: exit code; stderr was ${r.err.slice(0, 2000)}`).toBe(2);
}

type ErrorReply = {
  error: string;
  message: string;
  details: { where?: string; field?: string; message: string }[];
};

/** API: the status, the `{ error, message, details }` body, and the fragments in message or details. */
async function refusedByApi(
  req: { method: "POST" | "PUT"; url: string; as: Role; body: Buffer; contentType: string },
  status: number,
  fragments: string[],
  what: string,
  field?: string,
): Promise<ErrorReply> {
  const res = await writesNothing(() =>
    app.inject({
      method: req.method,
      url: req.url,
      headers: { ...users[req.as].auth, "content-type": req.contentType },
      payload: req.body,
    }),
  );
  expect(res.body.length, `${what}: a readable error, not a dump`).toBeLessThan(100_000);
  const body = res.json() as ErrorReply;
  expect(res.statusCode, `${what}: status; body was ${res.body.slice(0, 2000)}`).toBe(status);
  expect(body.error, what).toBe(status === 404 ? "not_found" : "invalid_input");
  expect(Array.isArray(body.details), what).toBe(true);
  const text = [body.message, ...body.details.map((d) => `${d.field}: ${d.message}`)].join("\n");
  expectFragments(text, fragments, what);
  if (field)
    expect(
      body.details.map((d) => d.field),
      `${what}: field path`,
    ).toContain(field);
  return body;
}

describe("bad-input corpus", () => {
  it("has at least 50 cases, and every fixture file belongs to one", async () => {
    const all = [...cases.quotes, ...cases.speakers, ...cases.campaigns, ...cases.api];
    expect(all.length + cases.cli.length).toBeGreaterThanOrEqual(50);
    const used = new Set(all.map((c) => c.file).filter(Boolean));
    const onDisk = (await readdir(BAD, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile() && d.name !== "cases.json")
      .map((d) => path.relative(BAD, path.join(d.parentPath, d.name)))
      .filter((f) => !f.startsWith(`campaigns${path.sep}assets`));
    expect(
      onDisk.filter((f) => !used.has(f)),
      "fixture files no case uses",
    ).toEqual([]);
    for (const c of all) if (c.generate) expect(GENERATORS, c.generate).toHaveProperty([c.generate]);
  });
});

describe.each([
  ["quotes", cases.quotes],
  ["speakers", cases.speakers],
] as const)("%s files: refused whole, FILE:LINE: field: message", (kind, list) => {
  it.each(list.map((c) => [label(c), c] as const))("%s", async (what, c) => {
    const { bytes, file } = await input(c);
    await refusedByCli([kind, "import", file], c.expect, `CLI ${what}`);
    if (c.api === false) return;
    // The same file through the API: the text as the import body's content.
    const body = await refusedByApi(
      {
        method: "POST",
        url: "/api/quotes/import",
        as: "staff",
        contentType: "application/json",
        body: json({ file: path.basename(file), content: bytes.toString("utf8"), kind }),
      },
      400,
      c.expect,
      `API ${what}`,
    );
    for (const d of body.details) expect(d.where, `API ${what}: FILE:LINE`).toMatch(/^[\w.-]+:\d+$/);
  });
});

describe("campaign files: refused with the field path, nothing saved", () => {
  it.each(cases.campaigns.map((c) => [label(c), c] as const))("%s", async (what, c) => {
    const { bytes, file } = await input(c);
    await refusedByCli(["campaigns", "create", file], c.expect, `CLI ${what}`);
    if (!c.api) return;
    await refusedByApi(
      { method: "POST", url: "/api/campaigns", as: "staff", contentType: "application/json", body: bytes },
      400,
      c.expect,
      `API ${what}`,
    );
  });
});

describe("API request bodies: 400 (or 404/413/415) with { error, message, details }", () => {
  it.each(cases.api.map((c) => [`${c.method} ${c.url} ${label(c)}`, c] as const))("%s", async (what, c) => {
    const { bytes } = await input(c);
    await refusedByApi(
      {
        method: c.method,
        url: c.url,
        as: c.as,
        body: bytes,
        contentType: c.contentType ?? "application/json",
      },
      c.status,
      c.expect,
      what,
      c.field,
    );
  });
});

describe("CLI arguments", () => {
  it.each(cases.cli.map((c) => [c.name, c] as const))("%s", async (what, c) => {
    await mkdir(path.join(tmp, "a-directory.csv"), { recursive: true });
    const argv = c.argv.map((a) => a.replace("{tmp}", tmp));
    await refusedByCli(argv, c.expect, what);
  });
});

describe("what the corpus must not refuse", () => {
  it("a quote as the API shows it (vetting, timestamps) re-imports as unchanged: stored fields are not unknown", async () => {
    const res = await app.inject({ url: "/api/quotes/not-protecting-ar", headers: users.staff.auth });
    expect(res.statusCode).toBe(200);
    const file = path.join(tmp, "round-trip.json");
    await writeFile(file, JSON.stringify([res.json()], null, 2));
    const r = await writesNothing(() =>
      cli(h.prefix, ["quotes", "import", file], { TESTIMONY_TOKEN: users.staff.token }),
    );
    expect(r).toEqual({ code: 0, out: `${file}: 0 created, 0 updated, 1 unchanged\n`, err: "" });
  });
});
