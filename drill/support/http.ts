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

export type Reply = { status: number; body: unknown; ms: number };

/** One request with a bearer token; network errors come back as status 0 with the message. */
export async function call(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
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
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, ms: Date.now() - t0 };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: Date.now() - t0 };
  }
}
