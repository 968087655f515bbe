export type ErrorCode =
  | "invalid_input"
  | "not_found"
  | "conflict"
  | "invalid_state"
  | "forbidden"
  | "unauthorized";

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
