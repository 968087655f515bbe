import { describe, expect, it } from "vitest";
import { persistenceVerdict } from "../src/domain/persistence.js";
import { readPersistence } from "../src/store/persistence.js";
import { testStore } from "./support/redis.js";

describe("Redis persistence at start-up", () => {
  it("reads the settings of a real Redis", async () => {
    const t = testStore("persistence");
    try {
      const p = await readPersistence(t.redis);
      expect(p.readable).toBe(true);
      if (p.readable) expect(["always", "everysec", "no"]).toContain(p.appendfsync);
    } finally {
      await t.cleanup();
    }
  });

  it("refuses a Redis without AOF unless ALLOW_VOLATILE_REDIS, warns on everysec, accepts always", () => {
    const volatile = { readable: true as const, aof: false, appendfsync: "everysec", rdbSave: "" };
    expect(persistenceVerdict(volatile, { allowVolatile: false })).toMatchObject({ level: "refuse" });
    expect(persistenceVerdict(volatile, { allowVolatile: false }).message).toContain(
      "ALLOW_VOLATILE_REDIS=1",
    );
    expect(persistenceVerdict(volatile, { allowVolatile: true }).level).toBe("warn");
    expect(persistenceVerdict({ ...volatile, aof: true }, { allowVolatile: false }).level).toBe("warn");
    expect(
      persistenceVerdict({ ...volatile, aof: true, appendfsync: "always" }, { allowVolatile: false }),
    ).toEqual({
      level: "ok",
      message: 'Redis persistence: appendonly yes, appendfsync always, save ""',
    });
    expect(
      persistenceVerdict({ readable: false, error: "ERR unknown command" }, { allowVolatile: false }).level,
    ).toBe("warn");
  });
});
