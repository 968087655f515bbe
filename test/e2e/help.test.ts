import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CliContext } from "../../src/cli/context.js";
import { buildProgram, leafCommands } from "../../src/cli/program.js";
import { bin } from "./bin.js";

const VERSION = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

describe("help, version and usage errors of the shipped binary", () => {
  it("bare `testimony` prints the help and exits 0", async () => {
    const r = await bin([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: testimony");
    expect(r.out).toContain("queue [options] <campaign>");
  });

  it("--version prints the package version", async () => {
    const r = await bin(["--version"]);
    expect(r).toMatchObject({ code: 0, out: `${VERSION}\n` });
  });

  it("--help answers without loading Redis, BullMQ or sharp (well under a second of work)", async () => {
    const r = await bin(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Commands:");
    // Loading bullmq + sharp + fastify alone takes over a second here; help must not.
    expect(r.ms).toBeLessThan(1500);
  });

  it("marks required options in each command's help", async () => {
    const r = await bin(["render-preview", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--quote <id>\s+quote id \(required\)/);
    const reject = await bin(["review", "reject", "--help"]);
    expect(reject.out).toMatch(/--comment <text>\s+why \(required\)/);
  });

  it("an unknown command and a missing argument are usage errors (exit 2)", async () => {
    const unknown = await bin(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
    const missing = await bin(["quotes", "vet"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("missing required argument 'id'");
  });

  it("every command and group has a description, and every required option says so", () => {
    const program = buildProgram(new CliContext({}, { out: () => {}, err: () => {} }));
    const walk = (c: typeof program, path: string[]): string[] =>
      c.commands.flatMap((sub) => {
        const here = [...path, sub.name()];
        const problems = sub.description() ? [] : [`${here.join(" ")}: no description`];
        for (const o of sub.options) {
          if (o.mandatory && !/\(required\)/.test(o.description))
            problems.push(`${here.join(" ")} ${o.flags}: required but not marked`);
        }
        return [...problems, ...walk(sub, here)];
      });
    expect(walk(program, [])).toEqual([]);
    expect(leafCommands(program).length).toBeGreaterThan(30);
  });
});
