import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import { toErrorReply } from "../../src/http/errors.js";

describe("one error table", () => {
  it("maps domain errors to their statuses", () => {
    const cases: [AppError["code"], number][] = [
      ["invalid_input", 400],
      ["unauthorized", 401],
      ["forbidden", 403],
      ["not_found", 404],
      ["conflict", 409],
      ["invalid_state", 409],
    ];
    for (const [code, status] of cases) expect(toErrorReply(new AppError(code, "x")).status).toBe(status);
  });

  it("answers 503 (retry), not 500, while Redis is unreachable", () => {
    const gaveUp = Object.assign(new Error("Reached the max retries per request limit (which is 1)."), {
      name: "MaxRetriesPerRequestError",
    });
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
    for (const err of [gaveUp, refused, new Error("Connection is closed.")]) {
      expect(toErrorReply(err)).toMatchObject({ status: 503, body: { error: "unavailable" } });
    }
    expect(toErrorReply(new Error("boom")).status).toBe(500);
  });
});
