import { describe, expect, it } from "vitest";
import { createQueueEvents } from "../src/queues/queues.js";
import { createKeys } from "../src/store/keys.js";
import { connectRedis } from "../src/store/redis.js";

describe("connection kinds", () => {
  it("a command connection cannot be handed to a BullMQ consumer (a type error, checked by `npm run typecheck`)", async () => {
    const command = connectRedis("redis://127.0.0.1:1", "command", { reconnect: false });
    command.on("error", () => {});
    const keys = createKeys("test-connection-kinds");
    // @ts-expect-error CommandRedis is not a BlockingRedis: BullMQ would refuse maxRetriesPerRequest != null.
    const make = () => createQueueEvents("render", command, keys);
    expect(typeof make).toBe("function");
    expect(command.options.maxRetriesPerRequest).toBe(1);
    expect(command.options.commandTimeout).toBeGreaterThan(0);
    const blocking = connectRedis("redis://127.0.0.1:1", "worker");
    blocking.on("error", () => {});
    expect(blocking.options.maxRetriesPerRequest).toBeNull();
    command.disconnect();
    blocking.disconnect();
  });
});
