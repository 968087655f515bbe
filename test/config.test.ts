import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { cli } from "./support/cli.js";

/** The message start-up stops with, or "ok". */
function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

const LEVELS = '"fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"';

describe("loadConfig", () => {
  it("has defaults for everything, and treats a blank variable as unset", () => {
    const c = loadConfig({});
    expect(c).toEqual({
      redisUrl: "redis://127.0.0.1:6379",
      keyPrefix: "testimony",
      dataDir: path.resolve("./data"),
      exportDir: path.resolve("./exports"),
      port: 8080,
      host: "127.0.0.1",
      logLevel: "info",
      publicUrl: "http://127.0.0.1:8080",
      catchUpHours: 48,
      allowVolatileRedis: false,
      token: undefined,
      metricsToken: undefined,
      storage: { kind: "disk" },
      deliverBackoffMs: 10_000,
      namedSecret: expect.any(Function),
    });
    expect({ ...loadConfig({ PORT: "", LOG_LEVEL: "", REDIS_URL: "" }), namedSecret: c.namedSecret }).toEqual(
      c,
    );
  });

  it("reads an s3 target's credentials by the name the campaign gives (DELIVERY_… only), and a blank one as unset", () => {
    const c = loadConfig({ DELIVERY_PARTNER_SECRET: "s3cr3t", DELIVERY_BLANK: "", OTHER: "x" });
    expect(c.namedSecret("DELIVERY_PARTNER_SECRET")).toBe("s3cr3t");
    expect(c.namedSecret("DELIVERY_BLANK")).toBeUndefined();
    expect(c.namedSecret("DELIVERY_MISSING")).toBeUndefined();
    // Never another of the process's variables, whatever a campaign names.
    expect(c.namedSecret("OTHER")).toBeUndefined();
  });

  it("reads valid values, ignoring the rest of the environment", () => {
    const c = loadConfig({
      REDIS_URL: "rediss://user:secret@redis.internal:6380/2",
      KEY_PREFIX: "staging.testimony",
      PORT: "3000",
      LOG_LEVEL: "debug",
      DATA_DIR: "/var/lib/testimony",
      HOME: "/root",
    });
    expect(c).toMatchObject({
      redisUrl: "rediss://user:secret@redis.internal:6380/2",
      keyPrefix: "staging.testimony",
      port: 3000,
      logLevel: "debug",
      dataDir: "/var/lib/testimony",
      publicUrl: "http://127.0.0.1:3000",
    });
  });

  it("refuses a bad PORT, naming it", () => {
    for (const port of ["http", "70000", "-1", "80.5", " ", "0x50", "1e3"]) {
      expect(refusal({ PORT: port }), port).toBe(
        "invalid configuration:\n  PORT: must be a port number from 0 to 65535",
      );
    }
  });

  it("refuses a bad REDIS_URL, naming it", () => {
    for (const url of ["http://127.0.0.1:6379", "127.0.0.1:6379", "localhost", "redis://"]) {
      expect(refusal({ REDIS_URL: url }), url).toBe(
        "invalid configuration:\n  REDIS_URL: must be a URL like redis://host:6379",
      );
    }
  });

  it("refuses a bad LOG_LEVEL, naming it and the allowed levels", () => {
    for (const level of ["verbose", "INFO", "warning"]) {
      expect(refusal({ LOG_LEVEL: level }), level).toBe(
        `invalid configuration:\n  LOG_LEVEL: Invalid option: expected one of ${LEVELS}`,
      );
    }
  });

  it("refuses a KEY_PREFIX that would break the key layout", () => {
    expect(refusal({ KEY_PREFIX: "a:b" })).toBe(
      "invalid configuration:\n  KEY_PREFIX: only letters, digits, '_', '.', '-' (1 to 64)",
    );
    expect(refusal({ KEY_PREFIX: "{x}" })).toMatch(/^invalid configuration:\n {2}KEY_PREFIX: /);
  });

  it("names every bad variable at once", () => {
    expect(refusal({ PORT: "abc", REDIS_URL: "http://x", LOG_LEVEL: "loud" })).toBe(
      [
        "invalid configuration:",
        "  REDIS_URL: must be a URL like redis://host:6379",
        "  PORT: must be a port number from 0 to 65535",
        `  LOG_LEVEL: Invalid option: expected one of ${LEVELS}`,
      ].join("\n"),
    );
  });

  it("reads S3 storage from STORAGE_URL and the S3_* variables, and refuses it without them", () => {
    const s3 = {
      STORAGE_URL: "s3://drops-bucket/team/a",
      S3_ENDPOINT: "http://127.0.0.1:9400/",
      S3_ACCESS_KEY_ID: "key:id",
      S3_SECRET_ACCESS_KEY: "s3cr3t",
    };
    expect(loadConfig(s3).storage).toEqual({
      kind: "s3",
      bucket: "drops-bucket",
      prefix: "team/a/",
      endpoint: "http://127.0.0.1:9400",
      region: "us-east-1",
      accessKeyId: "key:id",
      secretAccessKey: "s3cr3t",
    });
    expect(loadConfig({ ...s3, STORAGE_URL: "s3://drops-bucket" }).storage).toMatchObject({ prefix: "" });
    expect(refusal({ ...s3, S3_ENDPOINT: "ftp://h" })).toBe(
      ["invalid configuration:", "  S3_ENDPOINT: must be a URL like https://host:port"].join("\n"),
    );
    expect(refusal({ STORAGE_URL: "s3://drops-bucket/x" })).toBe(
      [
        "invalid configuration:",
        "  S3_ENDPOINT: required when STORAGE_URL is s3://",
        "  S3_ACCESS_KEY_ID: required when STORAGE_URL is s3://",
        "  S3_SECRET_ACCESS_KEY: required when STORAGE_URL is s3://",
      ].join("\n"),
    );
    expect(refusal({ STORAGE_URL: "http://bucket" })).toMatch(
      /STORAGE_URL: must be disk or s3:\/\/bucket\/prefix/,
    );
  });

  it("stops the CLI with exit code 2 and the variable's name, before touching Redis", async () => {
    const r = await cli("test-config-unused", ["quotes", "list"], { LOG_LEVEL: "loud" });
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      `error: invalid configuration:\n  LOG_LEVEL: Invalid option: expected one of ${LEVELS}\n`,
    );
    const badUrl = await cli("test-config-unused", ["quotes", "list"], {
      REDIS_URL: "http://127.0.0.1:6379",
    });
    expect(badUrl).toMatchObject({
      code: 2,
      err: expect.stringContaining("REDIS_URL: must be a URL like redis://host:6379"),
    });
  });
});
