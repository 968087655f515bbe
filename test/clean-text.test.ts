import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSpeakers } from "../src/app/import.service.js";
import { neutraliseBidi, textProblem } from "../src/domain/clean-text.js";
import { publicationView } from "../src/domain/publication.js";
import { type RunningServer, startServer } from "../src/http/server.js";
import { loadTextTemplates } from "../src/render/text/text.render.js";
import { type Harness, harness, makeUser } from "./http/fixtures.js";
import { aCampaign, aQuote, aSpeaker } from "./support/builders.js";
import { cli } from "./support/cli.js";
import { keysUnder } from "./support/redis.js";

/**
 * The clean-text gate (src/domain/clean-text.ts) on every path: each hostile text is refused by the
 * CLI import and by the API (a real listening server) with the field, the row and the character, and
 * nothing is written.
 */

let h: Harness;
let server: RunningServer;
let dir = "";
let staff: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  h = await harness("clean-text");
  server = await startServer({ ...h.deps, host: "127.0.0.1", port: 0 });
  dir = await mkdtemp(path.join(tmpdir(), "testimony-clean-text-"));
  staff = await makeUser(h, "clean-staff", ["staff"]);
  await importSpeakers(h.store, await readFile("assets/sample/speakers.csv"), "speakers.csv", "setup");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await h.close(server?.app);
});

const QUOTE_HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at";
const quotesCsv = (text: string) =>
  `${QUOTE_HEADER}\nfine-1,leena,A clean quote,en,brutality,T,P,,2015-09-21\nbad-1,leena,"${text}",en,brutality,T,P,,2015-09-21\n`;
const quotesJson = (text: string) =>
  JSON.stringify(
    [
      {
        id: "bad-1",
        speakerId: "leena",
        text,
        locale: "en",
        narrative: "brutality",
        source: { title: "T", publisher: "P", publishedAt: "2015-09-21" },
      },
    ],
    null,
    2,
  );
const speakersCsv = (notes: string) =>
  `id,pseudonym,attribution,notes\nfine-s,Fine,pseudonym,ok\nbad-s,Bad,pseudonym,"${notes}"\n`;

type Case = {
  name: string;
  kind: "quotes" | "speakers";
  file: string;
  content: string;
  expect: string;
};

const CASES: Case[] = [
  {
    name: "U+202E in a quote (CSV)",
    kind: "quotes",
    file: "rlo.csv",
    content: quotesCsv("I left \u202Ebecause of what I saw"),
    expect: "rlo.csv:3: text: holds the bidi control U+202E RIGHT-TO-LEFT OVERRIDE at character 8",
  },
  {
    name: "U+202D in a quote (JSON)",
    kind: "quotes",
    file: "lro.json",
    content: quotesJson("\u202DAbu Bakr said this"),
    expect: "lro.json:2: text: holds the bidi control U+202D LEFT-TO-RIGHT OVERRIDE at character 1",
  },
  {
    name: "an unpaired isolate in a quote",
    kind: "quotes",
    file: "fsi.csv",
    content: quotesCsv("open \u2068and never closed"),
    expect: "fsi.csv:3: text: holds U+2068 FIRST STRONG ISOLATE at character 6 with no U+2069",
  },
  {
    name: "NUL in a quote's text",
    kind: "quotes",
    file: "nul.csv",
    content: quotesCsv("before\u0000after"),
    expect: "nul.csv:3: text: holds the control character U+0000 NUL at character 7",
  },
  {
    name: "NUL in a speaker's notes",
    kind: "speakers",
    file: "notes.csv",
    content: speakersCsv("private\u0000note"),
    expect: "notes.csv:3: notes: holds the control character U+0000 NUL at character 8",
  },
  {
    name: "a C1 control in a source title",
    kind: "quotes",
    file: "c1.json",
    content: quotesJson("fine").replace('"title": "T"', '"title": "T\\u0085"'),
    expect: "c1.json:2: source.title: holds the control character U+0085 control character",
  },
];

async function api(method: string, url: string, body: Buffer | string, type = "application/json") {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { ...staff.auth, "content-type": type },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return { status: res.status, body: (await res.json()) as { error: string; message: string } };
}

async function writesNothing<T>(run: () => Promise<T>): Promise<T> {
  const before = await keysUnder(h.redis, h.prefix);
  const result = await run();
  expect(await keysUnder(h.redis, h.prefix), "nothing written").toEqual(before);
  return result;
}

describe("every text field passes the gate, on every path", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s: CLI import refuses it", async (_n, c) => {
    const file = path.join(dir, c.file);
    await writeFile(file, c.content);
    const r = await writesNothing(() =>
      cli(h.prefix, [c.kind, "import", file, "--as", "clean-staff"], { TESTIMONY_TOKEN: staff.token }),
    );
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(c.expect.replace(/^/, `${dir}/`));
    expect(r.err).toContain("nothing imported");
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s: API import refuses it", async (_n, c) => {
    const res = await writesNothing(() =>
      api("POST", "/api/quotes/import", JSON.stringify({ file: c.file, content: c.content, kind: c.kind })),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_input");
    expect(res.body.message).toContain(c.expect);
  });

  it("a campaign name with '/' and NUL: refused by the CLI and the API", async () => {
    const campaign = JSON.parse(await readFile("assets/sample/campaign.json", "utf8"));
    delete campaign.brand.logo;
    for (const [name, expected] of [
      ["why/they\u0000left", "name: holds '/' at character 4: a name must not look like a path"],
      ["why they\u0000left", "name: holds the control character U+0000 NUL at character 9"],
    ] as const) {
      const body = JSON.stringify({ ...campaign, id: "hostile", name });
      const file = path.join(dir, "campaign.json");
      await writeFile(file, body);
      const r = await writesNothing(() =>
        cli(h.prefix, ["campaigns", "create", file, "--as", "clean-staff"], { TESTIMONY_TOKEN: staff.token }),
      );
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(expected);
      const res = await writesNothing(() => api("POST", "/api/campaigns", body));
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(expected);
    }
  });

  it("invalid UTF-8 in the API import body: 400 naming the file's line, as the CLI does", async () => {
    const content = Buffer.concat([
      Buffer.from(`${QUOTE_HEADER}\\nfine-1,leena,ok,en,brutality,T,P,,2015-09-21\\nbad-1,leena,caf`),
      Buffer.from([0xe9]), // Latin-1 "é": not UTF-8
      Buffer.from(`,en,brutality,T,P,,2015-09-21\\n`),
    ]);
    const body = Buffer.concat([
      Buffer.from('{"file":"latin1.csv","kind":"quotes","content":"'),
      content,
      Buffer.from('"}'),
    ]);
    const res = await writesNothing(() => api("POST", "/api/quotes/import", body));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "invalid_input" });
    expect(res.body.message).toBe("latin1.csv:3: content: is not valid UTF-8");

    // The same bytes as a file: the CLI names the same line.
    const file = path.join(dir, "latin1.csv");
    await writeFile(file, Buffer.from(content.toString("latin1").replaceAll("\\n", "\n"), "latin1"));
    const r = await writesNothing(() =>
      cli(h.prefix, ["quotes", "import", file, "--as", "clean-staff"], { TESTIMONY_TOKEN: staff.token }),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain("latin1.csv:3: file: is not valid UTF-8");
  });

  it("invalid UTF-8 in any other JSON body is refused too, never stored as U+FFFD", async () => {
    const body = Buffer.concat([Buffer.from('{"note":"bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await writesNothing(() => api("POST", "/api/quotes/not-there/vet", body));
    expect(res.status).toBe(400);
    expect(res.body.message).toBe("note:1: note: is not valid UTF-8");
  });

  it("a vetting note and a review comment pass the gate as well", async () => {
    const res = await writesNothing(() =>
      api("POST", "/api/quotes/not-there/vet", JSON.stringify({ note: "ok \u202E reversed" })),
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toContain("note: holds the bidi control U+202E RIGHT-TO-LEFT OVERRIDE");
  });

  it("what is clean stays as written, in NFC", async () => {
    const decomposed = "Cafe\u0301 \u2068#tag\u2069 line one\nline two\twith a tab";
    const res = await api(
      "POST",
      "/api/quotes/import",
      JSON.stringify({ file: "ok.json", content: quotesJson(decomposed).replace("bad-1", "ok-1") }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const stored = (await h.store.quotes.get("ok-1"))!.value;
    expect(stored.text).toBe(decomposed.normalize("NFC"));
    expect(stored.text).toContain("Café");
  });
});

describe("the rule itself", () => {
  it("names the first problem, by kind", () => {
    expect(textProblem("a\tb", "line")).toMatch(/one line without tabs/);
    expect(textProblem("a\tb\nc", "multiline")).toBeNull();
    expect(textProblem("a\u2028b", "multiline")).toMatch(/LINE SEPARATOR/);
    expect(textProblem("a\u2069", "line")).toMatch(/U\+2069 POP DIRECTIONAL ISOLATE .*\(unpaired\)/);
    expect(textProblem("\u2067x\u2069 \u2066y\u2069", "line")).toBeNull();
    expect(textProblem("x\u2067", "name")).toMatch(/not allowed in a name/);
    expect(textProblem("a\\b", "name")).toMatch(/must not look like a path/);
    expect(textProblem("\ud800", "line")).toMatch(/lone surrogate/);
    expect(textProblem("مقاتل سابق \u200f", "line")).toBeNull();
  });
});

describe("every text variant fences the quote off from the attribution", () => {
  const templates = loadTextTemplates();
  const view = (text: string, locale: "en" | "ar") =>
    publicationView(
      aQuote("q1", "s1", { text, locale }),
      aSpeaker("s1", { pseudonym: "Leena", localized: { ar: { pseudonym: "ليلى" } } }),
      aCampaign(),
      new Date("2026-11-22T00:00:00Z"),
    );

  it.each([
    ["en", "post"],
    ["en", "caption"],
    ["en", "alt_text"],
    ["ar", "post"],
    ["ar", "caption"],
    ["ar", "alt_text"],
  ] as const)("%s %s", (locale, variant) => {
    // Stored before the gate existed: an override inside the quote must not reach the output.
    const v = view("I left \u202Ebecause of it", locale);
    const out = templates.render(variant, v);
    expect(out).not.toMatch(/[\u202A-\u202E]/);
    expect(out).toContain(`\u2068I left because of it\u2069`);
    expect(out).toContain(`\u2068${locale === "ar" ? "ليلى" : "Leena"}\u2069`);
    expect(textProblem(out, "multiline"), "every isolate is paired").toBeNull();
  });

  it("neutralises only lines that need it", () => {
    expect(neutraliseBidi("a \u2067b\u2069\nc \u202Ed")).toBe("a \u2067b\u2069\nc d");
    expect(neutraliseBidi("x\u2069 y")).toBe("x y");
  });
});
