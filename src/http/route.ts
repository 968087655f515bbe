import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";
import type { ZodType, z } from "zod";
import type { Permission, User } from "../domain/user.js";
import type { EntityKind } from "./access.js";

type Schemas = {
  params?: ZodType;
  querystring?: ZodType;
  body?: ZodType;
  response?: Record<number, ZodType>;
};
type Out<T> = T extends ZodType ? z.output<T> : undefined;

export type ApiContext<S extends Schemas> = {
  params: Out<S["params"]>;
  query: Out<S["querystring"]>;
  body: Out<S["body"]>;
  user: User;
  req: FastifyRequest;
  reply: FastifyReply;
};

export type ApiRoute<S extends Schemas> = {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  summary: string;
  tags: string[];
  permission: Permission;
  /** "any": also callable from a signed-in page (session cookie + CSRF token); default bearer only. */
  auth?: "bearer" | "any";
  entity?: EntityKind;
  /** Content type of a non-JSON success response (cards, text variants). */
  produces?: string;
  schema: S;
  handler(ctx: ApiContext<S>): Promise<unknown>;
};

/**
 * A bearer-token API route whose request parts and responses are checked against zod schemas; the
 * handler gets the parsed values, typed, and the signed-in user.
 */
export function apiRoute<S extends Schemas>(app: FastifyInstance, spec: ApiRoute<S>) {
  app.route({
    method: spec.method,
    url: spec.url,
    schema: { ...spec.schema, summary: spec.summary, tags: spec.tags },
    config: {
      access: { auth: spec.auth ?? "bearer", permission: spec.permission },
      entity: spec.entity,
      produces: spec.produces,
    },
    handler: ((req: FastifyRequest, reply: FastifyReply) =>
      spec.handler({
        params: req.params as Out<S["params"]>,
        query: req.query as Out<S["querystring"]>,
        body: req.body as Out<S["body"]>,
        user: req.user!,
        req,
        reply,
      })) as RouteHandlerMethod,
  });
}
