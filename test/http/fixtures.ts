import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import sharp from "sharp";
import { addUser } from "../../src/app/users.service.js";
import { FORMATS, type Format } from "../../src/domain/campaign.js";
import type { Output } from "../../src/domain/output.js";
import type { Role } from "../../src/domain/user.js";
import { buildApp } from "../../src/http/app.js";
import type { AppDeps } from "../../src/http/deps.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { testStore } from "../support/redis.js";

export type Harness = Awaited<ReturnType<typeof harness>>;

/** A store under a fresh prefix, real queues, a temp DATA_DIR and the app's log lines kept for asserts. */
export async function harness(name: string) {
  const t = testStore(name);
  const dataDir = await mkdtemp(path.join(tmpdir(), `testimony-${name}-`));
  const queues = createQueues(t.redis, t.store.keys);
  const logLines: Record<string, unknown>[] = [];
  const log = pino({ level: "info" }, { write: (s: string) => logLines.push(JSON.parse(s)) });
  const exportDir = path.join(dataDir, "exports");
  const deps: AppDeps = { store: t.store, queues, templates: loadTextTemplates(), dataDir, exportDir, log };
  return {
    ...t,
    deps,
    dataDir,
    queues,
    logLines,
    async close(app?: { close(): Promise<unknown> }) {
      await app?.close();
      await queues.render.obliterate({ force: true }).catch(() => {});
      await closeQueues(queues);
      await rm(dataDir, { recursive: true, force: true });
      await t.cleanup();
    },
  };
}

export { buildApp };

export async function makeUser(h: Harness, name: string, roles: Role[]) {
  const { token } = await addUser(h.store, name, roles, "test");
  return { name, token, auth: { authorization: `Bearer ${token}` } };
}

let n = 0;

const xml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A stand-in card (the real renderer is tested on its own): the quote on the campaign's colours. */
function cardPng(width: number, height: number, text: string, direction: "ltr" | "rtl") {
  const anchor = direction === "rtl" ? `x="${width - 16}" text-anchor="end"` : `x="16"`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#0f1f2e"/><stop offset="1" stop-color="#1d3b53"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <rect x="16" y="${height / 2 - 40}" width="40" height="4" fill="#e0a526"/>
    <text ${anchor} y="${height / 2}" font-family="sans-serif" font-size="15" fill="#f5f1e8">${xml(text.slice(0, 34))}</text>
    <text ${anchor} y="${height - 18}" font-family="sans-serif" font-size="10" fill="#e0a526">#WhyTheyLeft</text>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** An output in review, written straight to the store with a small real PNG as its card. */
export async function makeOutput(h: Harness, over: Partial<Output> = {}): Promise<Output> {
  n++;
  const id = over.id ?? `o-test-${n}-${Math.random().toString(36).slice(2, 8)}`;
  const format: Format = over.format ?? "square";
  const campaignId = over.campaignId ?? "camp-a";
  const card = path.join("outputs", campaignId, `${id}.png`);
  const { width, height } = FORMATS[format];
  const quoteText = over.published?.quoteText ?? `Quote number ${n}`;
  const png = await cardPng(
    Math.round(width / 4),
    Math.round(height / 4),
    quoteText,
    over.direction ?? "ltr",
  );
  await mkdir(path.join(h.dataDir, path.dirname(card)), { recursive: true });
  await writeFile(path.join(h.dataDir, card), png);
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  const output: Output = {
    id,
    campaignId,
    quoteId: "q-1",
    speakerId: "s-1",
    locale: "en",
    direction: "ltr",
    narrative: "brutality",
    format,
    encoding: "png",
    templateVersion: "t1",
    brandVersion: "b1",
    status: "in_review",
    queuedBy: "staff1",
    queuedAt: at,
    updatedAt: at,
    attempts: 1,
    files: { card, text: {} },
    variants: { post: `${quoteText} #WhyTheyLeft`, alt_text: `A card: ${quoteText}` },
    published: { attribution: "A former fighter", citation: "ICSR, “Victims”, 2015-09-21", quoteText },
    decisions: [],
    missedDrops: [],
    ...over,
  };
  await h.store.outputs.commit({ writes: [h.store.outputs.write(output)] });
  return output;
}

/** Signs in through the login form like a browser: returns the session cookie and the page's CSRF token. */
export async function signIn(app: FastifyInstance, token: string) {
  const form = await app.inject({ method: "GET", url: "/review/login" });
  const loginCookie = form.cookies.find((c) => c.name === "tm_login")!;
  const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
  const res = await app.inject({
    method: "POST",
    url: "/review/login",
    cookies: { tm_login: loginCookie.value },
    payload: new URLSearchParams({ token, _csrf: loginCsrf, next: "/review" }).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const session = res.cookies.find((c) => c.name === "tm_session");
  if (res.statusCode !== 303 || !session) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
  const page = await app.inject({ method: "GET", url: "/review", cookies: { tm_session: session.value } });
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.body)?.[1] ?? "";
  return { cookie: session.value, csrf, setCookie: res.headers["set-cookie"] };
}
