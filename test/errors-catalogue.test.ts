import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppError, ERRORS, type ErrorCode } from "../src/domain/errors.js";
import { toErrorReply } from "../src/http/errors.js";

const README = readFileSync("README.md", "utf8");

describe("the error catalogue", () => {
  it("maps every code to an HTTP status the API answers", () => {
    for (const code of Object.keys(ERRORS) as ErrorCode[]) {
      const reply = toErrorReply(new AppError(code, "x"));
      expect(reply, code).toMatchObject({ status: ERRORS[code].http, body: { error: code } });
    }
  });

  it("documents every code with its exit code and HTTP status in the README", () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(README, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${e.exit} \\| ${e.http} \\|`));
    }
  });

  it("maps Redis trouble to 503 with a retryable body, not 500", () => {
    const oom = toErrorReply(
      Object.assign(new Error("OOM command not allowed when used memory > 'maxmemory'.")),
    );
    expect(oom).toMatchObject({ status: 503, body: { error: "unavailable" } });
    const gone = toErrorReply(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    expect(gone.status).toBe(503);
    expect(toErrorReply(new Error("a bug")).status).toBe(500);
  });
});
