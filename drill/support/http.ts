import { pino } from "pino";
import { startServer } from "../../src/http/server.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";

/**
 * The real HTTP app in this process, on 127.0.0.1 and a free port, over its own fail-fast "command"
 * connection, exactly as `testimony serve` wires it.
 */
export async function startApi(opts: {
  redisUrl: string;
  prefix: string;
  dataDir: string;
  exportDir: string;
}) {
  const redis = connectRedis(opts.redisUrl, "command");
  redis.on("error", () => {});
  const store = createStore(redis, opts.prefix);
  const queues = createQueues(redis, store.keys);
  const server = await startServer({
    store,
    queues,
    templates: loadTextTemplates(),
    dataDir: opts.dataDir,
    exportDir: opts.exportDir,
    log: pino({ level: "silent" }),
    host: "127.0.0.1",
    port: 0,
  });
  return {
    url: server.url,
    async close() {
      await server.close();
      await closeQueues(queues).catch(() => {});
      redis.disconnect();
    },
  };
}

export type Reply = { status: number; body: unknown; ms: number; retryAfter?: string | null };

/** One request with a bearer token; network errors come back as status 0 with the message. */
export async function call(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  timeoutMs = 15_000,
): Promise<Reply> {
  const t0 = Date.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return {
      status: res.status,
      body: parsed,
      ms: Date.now() - t0,
      retryAfter: res.headers.get("retry-after"),
    };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: Date.now() - t0 };
  }
}

/** The review sign-in form as a browser gets it: its cookie nonce and the signed anti-CSRF token. */
export async function loginForm(base: string): Promise<{ nonce: string; csrf: string }> {
  const res = await fetch(`${base}/review/login`, {
    redirect: "manual",
    signal: AbortSignal.timeout(15_000),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("tm_login="));
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  if (!cookie || !csrf) throw new Error(`GET /review/login ${res.status}: no sign-in form`);
  return { nonce: cookie.split(";")[0]!.slice("tm_login=".length), csrf };
}

/** Signs in on the review page with an API token, from the page's own origin. */
export async function signIn(
  base: string,
  form: { nonce: string; csrf: string },
  token: string,
): Promise<Reply> {
  const t0 = Date.now();
  try {
    const res = await fetch(`${base}/review/login`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `tm_login=${form.nonce}`,
        origin: base,
      },
      body: new URLSearchParams({ token, _csrf: form.csrf, next: "/review" }).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // an HTML page
    }
    return { status: res.status, body, ms: Date.now() - t0, retryAfter: res.headers.get("retry-after") };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: Date.now() - t0 };
  }
}
