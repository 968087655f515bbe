import type { Redis } from "ioredis";
import type { Persistence } from "../domain/persistence.js";

const DEADLINE_MS = 2000;

/** Reads appendonly, appendfsync and save (CONFIG GET, within a deadline); managed Redis may forbid CONFIG. */
export async function readPersistence(redis: Redis): Promise<Persistence> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = (await Promise.race([
      redis.config("GET", "appendonly", "appendfsync", "save") as Promise<string[]>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("CONFIG GET timed out")), DEADLINE_MS);
      }),
    ])) as string[];
    const conf = new Map<string, string>();
    for (let i = 0; i + 1 < reply.length; i += 2) conf.set(reply[i]!, reply[i + 1]!);
    return {
      readable: true,
      aof: conf.get("appendonly") === "yes",
      appendfsync: conf.get("appendfsync") ?? "unknown",
      rdbSave: conf.get("save") ?? "",
    };
  } catch (err) {
    return { readable: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
