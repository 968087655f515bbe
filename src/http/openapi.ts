import type { FastifyInstance, RouteOptions } from "fastify";
import type { ZodType } from "zod";
import type { RouteConfig } from "./access.js";
import { errorSchema } from "./schemas.js";
import { jsonSchema } from "./zod.js";

type Collected = { method: string; url: string; schema: Record<string, unknown>; config: RouteConfig };

const ERRORS: Record<string, string> = {
  "400": "Invalid input: details name each field",
  "401": "No token, or a wrong or revoked one",
  "403": "The role does not allow it, or four eyes: you queued this output",
  "404": "No such entity",
  "409": "Wrong state, or changed by someone else meanwhile",
};

const toPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, "{$1}");

function parameters(schema: ZodType | undefined, where: "path" | "query") {
  if (!schema) return [];
  const js = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (js.required ?? []).includes(name),
    schema: s,
  }));
}

function operation(r: Collected) {
  const s = r.schema as {
    summary?: string;
    tags?: string[];
    params?: ZodType;
    querystring?: ZodType;
    body?: ZodType;
  };
  const response = (r.schema.response ?? {}) as Record<string, ZodType>;
  const responses: Record<string, unknown> = {};
  for (const [code, schema] of Object.entries(response)) {
    responses[code] = {
      description: "Success",
      content: { "application/json": { schema: jsonSchema(schema, "output") } },
    };
  }
  if (r.config.produces) {
    responses["200"] = {
      description: "Success",
      content: { [r.config.produces]: { schema: { type: "string", format: "binary" } } },
    };
  }
  if (Object.keys(responses).length === 0) responses["200"] = { description: "Success" };
  const authed = r.config.access && r.config.access.auth !== "public";
  for (const [code, description] of Object.entries(ERRORS)) {
    if (!authed && (code === "401" || code === "403")) continue;
    responses[code] = {
      description,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  const permission =
    r.config.access && "permission" in r.config.access ? r.config.access.permission : undefined;
  return {
    summary: s.summary,
    tags: s.tags,
    description: permission ? `Needs permission \`${permission}\`.` : undefined,
    security: authed ? [{ bearer: [] }] : [],
    parameters: [...parameters(s.params, "path"), ...parameters(s.querystring, "query")],
    requestBody: s.body
      ? {
          required: !s.body.safeParse(undefined).success,
          content: { "application/json": { schema: jsonSchema(s.body, "input") } },
        }
      : undefined,
    responses,
  };
}

/**
 * The OpenAPI 3.1 document, built from the routes as registered: every /api route, /health and
 * /metrics, with the zod schemas converted to JSON Schema. Its hook goes on first, so it sees every route.
 */
export function openapiRoutes(app: FastifyInstance) {
  const routes: Collected[] = [];
  app.addHook("onRoute", (r: RouteOptions) => {
    const methods = [r.method].flat().filter((m) => m !== "HEAD");
    for (const method of methods) {
      routes.push({
        method,
        url: r.url,
        schema: (r.schema ?? {}) as Record<string, unknown>,
        config: (r.config ?? {}) as RouteConfig,
      });
    }
  });
  let doc: unknown;
  app.register(async (scope) => {
    scope.get("/openapi.json", { config: { access: { auth: "public" } } }, async () => {
      doc ??= build(
        routes.filter((r) => r.url.startsWith("/api/") || r.url === "/health" || r.url === "/metrics"),
      );
      return doc;
    });
  });
}

function build(routes: Collected[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = toPath(r.url);
    paths[p] ??= {};
    paths[p][r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "testimony",
      version: "1",
      description:
        "Vetted quotes of former Islamic State members, rendered and reviewed (four eyes) before export.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "tm_<id>.<secret>" } },
      schemas: { Error: jsonSchema(errorSchema, "output") },
    },
    paths,
  };
}
