import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { RouteOptions } from "fastify";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { CliContext } from "../../src/cli/context.js";
import { buildProgram, leafCommands } from "../../src/cli/program.js";
import { buildApp } from "../../src/http/app.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { testStore } from "../support/redis.js";

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
    .map((e) => path.join(e.parentPath, e.name));
}
const texts = async (dir: string) =>
  (await Promise.all((await testFiles(dir)).map((f) => readFile(f, "utf8")))).join("\n");

const t = testStore("sweep");
afterAll(() => t.cleanup());

describe("nothing shipped goes untested", () => {
  it("every leaf command of the CLI is spawned by an e2e test (test/e2e)", async () => {
    const e2e = await texts("test/e2e");
    const program = buildProgram(new CliContext({}, { out: () => {}, err: () => {} }));
    // A case is the binary spawned with the command's words in order: bin(["quotes", "vet", …]).
    const uncovered = leafCommands(program).filter((words) => {
      const literal = words.map((w) => `"${w}"`).join(",\\s*");
      return !new RegExp(`(bin|RoleProcess)\\(\\s*\\[[^\\]]*?${literal}`).test(e2e);
    });
    expect(uncovered.map((w) => w.join(" "))).toEqual([]);
  });

  it("every HTTP route is requested by some test", async () => {
    const all = await texts("test");
    const routes: string[] = [];
    const queues = createQueues(t.redis, t.store.keys);
    const app = buildApp({
      store: t.store,
      queues,
      templates: loadTextTemplates(),
      dataDir: "/nonexistent",
      exportDir: "/nonexistent",
      log: pino({ level: "silent" }),
    });
    app.addHook("onRoute", (r: RouteOptions) => {
      for (const m of [r.method].flat()) if (m !== "HEAD") routes.push(`${m} ${r.url}`);
    });
    await app.ready();
    await app.close();
    await closeQueues(queues);
    const untested = [...new Set(routes)]
      .filter((r) => !r.includes("/admin/queues/") && !r.includes("*"))
      .filter((r) => {
        const url = r.split(" ")[1]!;
        // `:id` in a route is any one path segment in a test's URL (`${id}`, a literal id).
        const pattern = url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/\"'`\\s?]+");
        // Opened by a quote or by a template's base (`${url}/review/…`).
        return !new RegExp(`["'\`}]${pattern}(["'\`?]|$)`, "m").test(all);
      });
    expect(untested).toEqual([]);
  });
});
