/**
 * The one error catalogue: every code a person can meet, with the HTTP status the API answers and the
 * exit code the CLI ends with. The API (src/http/errors.ts) and the CLI (src/cli/program.ts) both read
 * this table; test/errors-catalogue.test.ts checks that every code is mapped and documented in the README.
 */
export const ERRORS = {
  invalid_input: {
    http: 400,
    exit: 2,
    meaning: "the input is malformed or breaks a rule; details say where",
  },
  unauthorized: { http: 401, exit: 2, meaning: "no credential, or one that is wrong, expired or revoked" },
  forbidden: { http: 403, exit: 1, meaning: "the account lacks the role, or it is its own work (four eyes)" },
  not_found: { http: 404, exit: 1, meaning: "the named thing does not exist" },
  conflict: { http: 409, exit: 1, meaning: "someone changed it meanwhile; read again and retry" },
  invalid_state: { http: 409, exit: 1, meaning: "the transition is not allowed from the current state" },
  rate_limited: { http: 429, exit: 1, meaning: "too many attempts; wait for Retry-After" },
  unavailable: { http: 503, exit: 1, meaning: "Redis is unreachable or refuses writes; retry shortly" },
  internal: { http: 500, exit: 1, meaning: "a bug; the log has the details" },
} as const satisfies Record<string, { http: number; exit: number; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

export type ErrorDetail = { where?: string; field?: string; message: string };

/** An error a person can act on: a stable code, a sentence, and where exactly it went wrong. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (kind: string, id: string) =>
  new AppError("not_found", `${kind} ${id} does not exist`);
