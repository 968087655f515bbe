import { AppError } from "../domain/errors.js";

export function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new AppError("invalid_input", `--${name} must be a positive whole number`, [
      { field: name, message: "must be a positive whole number" },
    ]);
  }
  return n;
}
