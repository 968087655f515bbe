import { AppError } from "../domain/errors.js";

export function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1) {
    throw new AppError("invalid_input", `--${name} must be a positive whole number`, [
      { field: name, message: "must be a positive whole number" },
    ]);
  }
  return n;
}

/** An option limited to a list of values: anything else is a usage error naming the allowed ones. */
export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    throw new AppError("invalid_input", `--${name} must be one of ${allowed.join(", ")}`, [
      { field: name, message: `must be one of ${allowed.join(", ")}` },
    ]);
  }
  return value as T;
}
