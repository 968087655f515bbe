import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importQuotes, importSpeakers } from "../src/app/import.service.js";
import { changeVetting, getQuote, listQuotes } from "../src/app/quotes.service.js";
import { AppError } from "../src/domain/errors.js";
import { readRecords } from "../src/import/read-records.js";
import { actingAs, cli } from "./support/cli.js";
import { keysUnder, testStore } from "./support/redis.js";

// A fresh key prefix for each test, holding the sample speakers: each test runs alone and in any order.
let t: ReturnType<typeof testStore>;
const FIXTURES = "test/fixtures/import";
const NARRATIVE_RULE = "must be one of infighting, brutality, corruption, disillusionment, other";
const HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at";
const ICSR = `"Victims, Perpetrators, Assets: The Narratives of Islamic State Defectors","ICSR, King's College London"`;
let tmp = "";

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "testimony-import-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
let staff: { TESTIMONY_TOKEN: string };
beforeEach(async () => {
  t = testStore("import");
  staff = await actingAs(t.store, "staff1");
  await importSpeakers(t.store, await readFile("assets/sample/speakers.csv"), "speakers.csv", "setup");
});
afterEach(() => t.cleanup({ afterWorkers: false }));

const importSampleQuotes = async () =>
  importQuotes(t.store, await readFile("assets/sample/quotes.csv"), "quotes.csv", "setup");

const fixture = (name: string) => readFile(path.join(FIXTURES, name));

/** Every key with its revision or length: equal snapshots mean nothing at all was written. */
async function snapshot(): Promise<string[]> {
  const out: string[] = [];
  for (const key of await keysUnder(t.redis, t.prefix)) {
    const type = await t.redis.type(key);
    const size =
      type === "hash"
        ? await t.redis.hget(key, "rev")
        : type === "set"
          ? await t.redis.scard(key)
          : type === "stream"
            ? await t.redis.xlen(key)
            : type;
    out.push(`${key} ${type} ${size}`);
  }
  return out;
}

/** The problems of a refused import as the person importing reads them: `FILE:LINE: field: message`. */
async function refused(run: Promise<unknown>): Promise<string[]> {
  const err = await run.then(
    () => {
      throw new Error("the import was accepted");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const e = err as AppError;
  expect(e.code).toBe("invalid_input");
  const lines = e.details.map((d) => `${d.where}: ${d.field}: ${d.message}`);
  for (const line of lines) expect(e.message).toContain(line);
  return lines;
}

/** Imports a refused file and checks that Redis is exactly as it was before. */
async function refusedQuotes(name: string, bytes?: Uint8Array): Promise<string[]> {
  const before = await snapshot();
  const lines = await refused(importQuotes(t.store, bytes ?? (await fixture(name)), name, "tester"));
  expect(await snapshot()).toEqual(before);
  return lines;
}

async function refusedSpeakers(name: string): Promise<string[]> {
  const before = await snapshot();
  const lines = await refused(importSpeakers(t.store, await fixture(name), name, "tester"));
  expect(await snapshot()).toEqual(before);
  return lines;
}

describe("import of the sample files", () => {
  it("imports the sample speakers and quotes, all quotes pending, each with an audit entry", async () => {
    const again = await importSpeakers(
      t.store,
      await readFile("assets/sample/speakers.csv"),
      "speakers.csv",
      "tester",
    );
    expect(again).toEqual({ file: "speakers.csv", created: 0, updated: 0, unchanged: 4 });

    const summary = await importQuotes(
      t.store,
      await readFile("assets/sample/quotes.csv"),
      "quotes.csv",
      "tester",
    );
    expect(summary).toEqual({ file: "quotes.csv", created: 10, updated: 0, unchanged: 0 });

    const quote = await getQuote(t.store, "jihad-upside-down-en");
    expect(quote).toMatchObject({
      speakerId: "british-fighter",
      text: "Muslims are fighting Muslims, Assad's forgotten about. The whole jihad was turned upside down.",
      locale: "en",
      narrative: "infighting",
      source: { title: "Defector testimony report coverage: 'They hyped us up'", publisher: "Sputnik" },
      vetting: { state: "pending" },
    });
    const arabic = await listQuotes(t.store, { locale: "ar" });
    expect(arabic.map((q) => q.translationOf).sort()).toEqual(
      [
        "horrified-en",
        "hyped-us-up-en",
        "jihad-upside-down-en",
        "not-holy-war-en",
        "not-protecting-en",
      ].sort(),
    );
    expect(await listQuotes(t.store, { state: "pending" })).toHaveLength(10);

    const audit = await t.store.audit.list({ entity: "not-protecting-ar" });
    expect(audit).toEqual([
      expect.objectContaining({
        actor: "tester",
        action: "quote.imported",
        entity: "not-protecting-ar",
        to: "pending",
      }),
    ]);
  });

  it("re-importing the same file changes nothing: no writes, no audit entries", async () => {
    await importSampleQuotes();
    const before = await snapshot();
    const auditBefore = await t.redis.xlen(t.store.keys.audit);
    const summary = await importQuotes(
      t.store,
      await readFile("assets/sample/quotes.csv"),
      "quotes.csv",
      "tester",
    );
    expect(summary).toEqual({ file: "quotes.csv", created: 0, updated: 0, unchanged: 10 });
    expect(await t.redis.xlen(t.store.keys.audit)).toBe(auditBefore);
    expect(await snapshot()).toEqual(before);
  });

  it("imports a JSON array, translation of a quote already stored", async () => {
    await importSampleQuotes();
    const summary = await importQuotes(
      t.store,
      await fixture("quotes-valid.json"),
      "quotes-valid.json",
      "tester",
    );
    expect(summary.created).toBe(1);
    expect(await getQuote(t.store, "not-protecting-fa")).toMatchObject({
      locale: "fa",
      translationOf: "not-protecting-en",
      source: { url: "https://icsr.info/", publishedAt: "2015-09-21" },
    });
  });

  it("imports a named speaker whose consent has who, when and scope; lists split on |", async () => {
    await importSpeakers(t.store, await fixture("speakers-named.csv"), "speakers-named.csv", "tester");
    const speaker = (await t.store.speakers.get("abu-example"))?.value;
    expect(speaker).toMatchObject({
      attribution: "named",
      publicName: "Example Name",
      consent: {
        state: "granted",
        recordedBy: "staff1",
        recordedAt: "2026-01-31T12:00:00Z",
        scope: { locales: ["en", "ar"], channels: ["x", "telegram"] },
      },
      private: { realName: "Private Person" },
      redactionTerms: ["Raqqa", "Tabqa"],
    });
  });
});

describe("bad input is refused whole, naming FILE:LINE: field, and writes nothing", () => {
  it("a missing column", async () => {
    expect(await refusedQuotes("quotes-missing-column.csv")).toEqual([
      "quotes-missing-column.csv:1: narrative: missing column",
    ]);
  });

  it("a misspelt column: missing and unknown", async () => {
    expect(await refusedQuotes("quotes-misspelt-column.csv")).toEqual([
      "quotes-misspelt-column.csv:1: narrative: missing column",
      "quotes-misspelt-column.csv:1: narative: unknown column",
    ]);
  });

  it("an empty text (blank cell after a good row)", async () => {
    expect(await refusedQuotes("quotes-empty-text.csv")).toEqual([
      "quotes-empty-text.csv:3: text: must not be empty",
    ]);
  });

  it("a text over 1,000 characters (1,000 exactly is fine)", async () => {
    const row = (id: string, text: string) =>
      `${id},leena,${text},en,brutality,#WhyTheyLeftDaesh,Think Again Turn Away,,2015-09-21\n`;
    const file = `${HEADER}\n${row("long-1000", "a".repeat(1000))}${row("long-1001", "b".repeat(1001))}`;
    expect(await refusedQuotes("quotes-long-text.csv", Buffer.from(file))).toEqual([
      "quotes-long-text.csv:3: text: at most 1,000 characters",
    ]);
  });

  it("an unknown narrative", async () => {
    expect(await refusedQuotes("quotes-bad-narrative.csv")).toEqual([
      `quotes-bad-narrative.csv:3: narrative: ${NARRATIVE_RULE}`,
    ]);
  });

  it("a locale that is not BCP 47", async () => {
    expect(await refusedQuotes("quotes-bad-locale.csv")).toEqual([
      'quotes-bad-locale.csv:2: locale: "en_GB" is not a BCP 47 language tag (e.g. en, ar, en-GB)',
    ]);
  });

  it("a source URL without http(s)", async () => {
    expect(await refusedQuotes("quotes-bad-url.csv")).toEqual([
      "quotes-bad-url.csv:4: source_url: must be an http(s) URL",
    ]);
  });

  it("a date not written YYYY-MM-DD", async () => {
    expect(await refusedQuotes("quotes-bad-date.csv")).toEqual([
      "quotes-bad-date.csv:2: source_published_at: must be a date as YYYY-MM-DD",
    ]);
  });

  it("the same id twice in one file", async () => {
    expect(await refusedQuotes("quotes-duplicate-id.csv")).toEqual([
      "quotes-duplicate-id.csv:4: id: duplicate id dup-1 (first on line 2)",
    ]);
  });

  it("a quote of an unknown speaker", async () => {
    expect(await refusedQuotes("quotes-unknown-speaker.csv")).toEqual([
      "quotes-unknown-speaker.csv:3: speaker_id: unknown speaker abu-nobody: import speakers first",
    ]);
  });

  it("a translation of an unknown quote", async () => {
    expect(await refusedQuotes("quotes-unknown-translation.csv")).toEqual([
      "quotes-unknown-translation.csv:2: translation_of: unknown quote not-in-redis-en",
    ]);
  });

  it("`named` attribution without consent", async () => {
    expect(await refusedSpeakers("speakers-named-no-consent.csv")).toEqual([
      "speakers-named-no-consent.csv:3: consent_state: named attribution needs granted consent recorded with who, when and scope",
    ]);
  });

  it("`named` attribution with consent but no scope", async () => {
    expect(await refusedSpeakers("speakers-named-no-scope.csv")).toEqual([
      "speakers-named-no-scope.csv:2: consent_scope_locales: named attribution needs a consent scope (locales or channels)",
    ]);
  });

  it("an unknown attribution", async () => {
    expect(await refusedSpeakers("speakers-bad-attribution.csv")).toEqual([
      "speakers-bad-attribution.csv:3: attribution: must be one of anonymous, pseudonym, named",
    ]);
  });

  it("a row with a missing cell", async () => {
    expect(await refusedQuotes("quotes-short-row.csv")).toEqual([
      "quotes-short-row.csv:3: row: Invalid Record Length: columns length is 9, got 8",
    ]);
  });

  it("an unclosed quote is reported on the row that opens it, not at the end of the file", async () => {
    expect(await refusedQuotes("quotes-unclosed-quote.csv")).toEqual([
      "quotes-unclosed-quote.csv:3: row: Quote Not Closed: the parsing is finished with an opening quote",
    ]);
  });

  it("invalid UTF-8 (a Latin-1 byte), naming its line", async () => {
    const bytes = Buffer.concat([
      Buffer.from(
        `${HEADER}\nu8-1,india-defector,This is not a holy war,en,corruption,${ICSR},,2015-09-21\n`,
      ),
      Buffer.from("u8-2,leena,I was horrified by what I saw in Raqqa, caf"),
      Buffer.from([0xe9]),
      Buffer.from(",en,brutality,#WhyTheyLeftDaesh,Think Again Turn Away,,2015-09-21\n"),
    ]);
    expect(await refusedQuotes("quotes-latin1.csv", bytes)).toEqual([
      "quotes-latin1.csv:3: file: is not valid UTF-8",
    ]);
  });

  it("an empty file", async () => {
    expect(await refusedQuotes("quotes-empty.csv")).toEqual(["quotes-empty.csv:1: file: is empty"]);
  });

  it("a header and no rows", async () => {
    expect(await refusedQuotes("quotes-header-only.csv")).toEqual([
      "quotes-header-only.csv:1: file: has no records",
    ]);
  });

  it("JSON that is not an array", async () => {
    expect(await refusedQuotes("quotes-object.json")).toEqual([
      "quotes-object.json:1: file: must be a JSON array of objects",
    ]);
  });

  it("JSON that does not parse, naming the line of the syntax error", async () => {
    const [line, ...rest] = await refusedQuotes("quotes-broken.json");
    expect(rest).toEqual([]);
    expect(line).toMatch(/^quotes-broken\.json:6: file: is not valid JSON: /);
  });

  it("a bad element of a JSON array is reported on the line where that element starts", async () => {
    expect(await refusedQuotes("quotes-bad-row.json")).toEqual([
      `quotes-bad-row.json:17: narrative: ${NARRATIVE_RULE}`,
      "quotes-bad-row.json:17: source.url: must be an http(s) URL",
    ]);
  });

  it("every bad row of a file is reported, with lines right after multi-line cells", async () => {
    expect(await refusedQuotes("quotes-multiline-bad.csv")).toEqual([
      `quotes-multiline-bad.csv:4: narrative: ${NARRATIVE_RULE}`,
      "quotes-multiline-bad.csv:8: source_published_at: must be a date as YYYY-MM-DD",
    ]);
  });

  it("through the CLI: exit code 2, the FILE:LINE lines on stderr, nothing on stdout", async () => {
    const before = await snapshot();
    const file = `${FIXTURES}/quotes-bad-narrative.csv`;
    const r = await cli(t.prefix, ["quotes", "import", file], staff);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      `error: ${file}: nothing imported, 1 problem(s):\n${file}:3: narrative: ${NARRATIVE_RULE}\n`,
    );
    const missing = await cli(t.prefix, ["speakers", "import", `${FIXTURES}/no-such-file.csv`], staff);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`${FIXTURES}/no-such-file.csv: cannot read: ENOENT`);
    expect(await snapshot()).toEqual(before);
  });
});

describe("CSV encodings and layouts that must import", () => {
  it("a byte-order mark and CRLF line ends", async () => {
    const csv = [
      HEADER,
      `bom-1,india-defector,This is not a holy war (BOM),en,corruption,${ICSR},,2015-09-21`,
      `bom-2,leena,"I was horrified by what I saw,\r\nthe brutality and the corruption",en,brutality,#WhyTheyLeftDaesh,Think Again Turn Away,,2015-09-21`,
      "bom-3,british-fighter,We saw the videos (BOM),en,heroic,Sputnik,Sputnik,,2015-09-21",
    ];
    const bytes = (rows: string[]) =>
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rows.join("\r\n"))]);
    const file = path.join(tmp, "quotes-bom-crlf.csv");

    // A bad row after a CRLF multi-line cell still gets its own line: the header was read despite the BOM.
    await writeFile(file, bytes(csv));
    const bad = await cli(t.prefix, ["quotes", "import", file], staff);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(`${file}:5: narrative: ${NARRATIVE_RULE}`);

    await writeFile(file, bytes([...csv.slice(0, 3), ""]));
    const ok = await cli(t.prefix, ["quotes", "import", file], staff);
    expect(ok).toEqual({ code: 0, out: `${file}: 2 created, 0 updated, 0 unchanged\n`, err: "" });
    expect((await getQuote(t.store, "bom-1")).text).toBe("This is not a holy war (BOM)");
    expect((await getQuote(t.store, "bom-2")).text).toBe(
      "I was horrified by what I saw,\nthe brutality and the corruption",
    );
  });

  it("quoted fields with commas, doubled quotes and newlines, keeping the lines of later rows", async () => {
    const bytes = await fixture("quotes-multiline.csv");
    const read = readRecords(bytes, "quotes-multiline.csv");
    expect(read.ok && read.records.map((r) => [r.line, r.value.id])).toEqual([
      [2, "ml-1"],
      [4, "ml-2"],
      [7, "ml-3"],
    ]);
    const summary = await importQuotes(t.store, bytes, "quotes-multiline.csv", "tester");
    expect(summary.created).toBe(3);
    expect((await getQuote(t.store, "ml-1")).text).toBe(
      "Muslims are fighting Muslims, Assad's forgotten about.\nThe whole jihad was turned upside down.",
    );
    expect((await getQuote(t.store, "ml-2")).text).toBe(
      'They said: "We are protecting Muslims."\n\nIt was a lie, a lie, a lie.',
    );
    expect((await getQuote(t.store, "ml-1")).source.title).toBe(
      "Defector testimony report coverage: 'They hyped us up'",
    );
  });

  it("a file without an id column gets stable ids derived from the content", async () => {
    const csv = `speaker_id,text,locale,narrative,source_title,source_publisher,source_published_at
leena,Derived id: I was horrified,en,brutality,#WhyTheyLeftDaesh,Think Again Turn Away,2015-09-21
`;
    const first = await importQuotes(t.store, Buffer.from(csv), "quotes-no-id.csv", "tester");
    const second = await importQuotes(t.store, Buffer.from(csv), "quotes-no-id.csv", "tester");
    expect(first.created).toBe(1);
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    const found = await listQuotes(t.store, { speakerId: "leena" });
    expect(found.filter((q) => q.text === "Derived id: I was horrified").map((q) => q.id)).toEqual([
      expect.stringMatching(/^q-[0-9a-f]{16}$/),
    ]);
  });
});

describe("editing an imported quote", () => {
  const quoteCsv = (text: string, title = "Defector testimony report coverage: 'They hyped us up'") =>
    Buffer.from(
      `${HEADER}\nedit-1,british-fighter,"${text}",en,disillusionment,"${title}",Sputnik,,2015-09-21\n`,
    );

  it("changing the words of a vetted quote re-opens vetting; changing only the citation does not", async () => {
    await importQuotes(t.store, quoteCsv("We saw the videos."), "edit.csv", "tester");
    await changeVetting(t.store, "edit-1", "vet", "reviewer1");
    expect((await getQuote(t.store, "edit-1")).vetting.state).toBe("vetted");

    const citation = await importQuotes(
      t.store,
      quoteCsv("We saw the videos.", "They hyped us up"),
      "edit.csv",
      "tester",
    );
    expect(citation).toMatchObject({ updated: 1 });
    expect((await getQuote(t.store, "edit-1")).vetting).toMatchObject({ state: "vetted", by: "reviewer1" });

    const words = await importQuotes(
      t.store,
      quoteCsv("We saw the videos. They hyped us up!", "They hyped us up"),
      "edit.csv",
      "editor",
    );
    expect(words).toEqual({ file: "edit.csv", created: 0, updated: 1, unchanged: 0 });
    const quote = await getQuote(t.store, "edit-1");
    expect(quote.text).toBe("We saw the videos. They hyped us up!");
    expect(quote.vetting).toEqual({ state: "pending" });
    expect((await listQuotes(t.store, { state: "vetted" })).map((q) => q.id)).not.toContain("edit-1");
    expect((await listQuotes(t.store, { state: "pending" })).map((q) => q.id)).toContain("edit-1");

    const audit = await t.store.audit.list({ entity: "edit-1" });
    expect(audit.map((a) => [a.actor, a.action, a.from, a.to])).toEqual([
      ["tester", "quote.imported", undefined, "pending"],
      ["reviewer1", "quote.vet", "pending", "vetted"],
      ["tester", "quote.updated", "vetted", "vetted"],
      ["editor", "quote.updated", "vetted", "pending"],
    ]);
  });
});
