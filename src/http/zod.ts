import type { FastifyInstance } from "fastify";
import { type ZodType, z } from "zod";
import type { ErrorDetail } from "../domain/errors.js";

type Issue = { path?: PropertyKey[]; message: string };

/** Fastify keeps `validation` and `validationContext` on the error it raises: the error handler reads both. */
class ZodValidationError extends Error {
  readonly statusCode = 400;
  readonly code = "FST_ERR_VALIDATION";
  constructor(readonly validation: Issue[]) {
    super("validation failed");
  }
}

const isZod = (s: unknown): s is ZodType => s instanceof z.ZodType;

export function issueDetails(issues: unknown[], where: string): ErrorDetail[] {
  return (issues as Issue[]).map((i) => ({
    where,
    field: (i.path ?? []).map(String).join(".") || where,
    message: i.message,
  }));
}

/**
 * Routes declare zod schemas; fastify validates requests through them (the parsed, transformed value
 * replaces the raw one) and serialises responses through them, so undeclared fields never leave.
 */
export function useZod(app: FastifyInstance) {
  app.setValidatorCompiler(({ schema }) => {
    if (!isZod(schema)) throw new Error("route schemas must be zod schemas");
    return (data: unknown) => {
      const r = schema.safeParse(data ?? undefined);
      return r.success ? { value: r.data } : { error: new ZodValidationError(r.error.issues) };
    };
  });
  app.setSerializerCompiler(({ schema, url, method }) => {
    if (!isZod(schema)) throw new Error("response schemas must be zod schemas");
    return (data: unknown) => {
      const r = schema.safeParse(data);
      if (!r.success) {
        const fields = r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
        throw new Error(`response of ${method} ${url} does not match its schema: ${fields}`);
      }
      return JSON.stringify(r.data);
    };
  });
}

export function jsonSchema(schema: ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}
