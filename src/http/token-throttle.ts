import rateLimit, { normalizeIP } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";
import { rateLimitStore } from "../store/rate-limit.store.js";
import type { Store } from "../store/store.js";

/**
 * Wrong credentials allowed per window before further token checks are refused with 429: per client
 * address, and per token prefix (the public `tm_<id>` half, so guessing one account's secret from
 * many addresses is limited too). Only failures count, so a busy script with a good token is never
 * slowed; while a limit is reached even a right token is refused, so guessing gains nothing.
 */
export const TOKEN_LIMITS = {
  perClient: 20,
  perTokenPrefix: 10,
  windowMs: 60_000,
};
export type TokenLimits = typeof TOKEN_LIMITS;

/** The public half of a token (`tm_<12 chars>.…`), or undefined for anything else. */
export const tokenPrefix = (token: string | undefined) => /^tm_([A-Za-z0-9_-]{12})\./.exec(token ?? "")?.[1];

export type TokenThrottle = {
  /** Throws rate_limited (and sets Retry-After) while the client or the token prefix is over its limit. */
  check(req: FastifyRequest, reply: FastifyReply, token: string | undefined): Promise<void>;
  /** Counts a wrong credential against the client and its token prefix. */
  failed(req: FastifyRequest, token: string | undefined): Promise<void>;
};

/** Registers @fastify/rate-limit (no global limit: limiters are applied where credentials are checked). */
export function registerRateLimit(app: FastifyInstance, store: Store) {
  app.register(rateLimit, { global: false, store: rateLimitStore(store), skipOnError: false });
}

/** Limiters over the shared store; call inside a context where registerRateLimit's plugin has loaded. */
export function tokenThrottle(app: FastifyInstance, limits: TokenLimits = TOKEN_LIMITS): TokenThrottle {
  const byClient = app.createRateLimit({
    max: limits.perClient,
    timeWindow: limits.windowMs,
    keyGenerator: (req) => `ip:${normalizeIP(req.ip)}`,
  });
  const prefixes = new WeakMap<FastifyRequest, string>();
  const byPrefix = app.createRateLimit({
    max: limits.perTokenPrefix,
    timeWindow: limits.windowMs,
    keyGenerator: (req) => `token:${prefixes.get(req)}`,
  });
  return {
    async check(req, reply, token) {
      const prefix = tokenPrefix(token);
      if (prefix) prefixes.set(req, prefix);
      const states = await Promise.all([
        byClient(req, { increment: false }),
        prefix ? byPrefix(req, { increment: false }) : undefined,
      ]);
      for (const [i, s] of states.entries()) {
        if (!s || s.isAllowed || s.remaining > 0) continue;
        const wait = Math.max(1, s.ttlInSeconds);
        reply.header("retry-after", String(wait));
        throw new AppError(
          "rate_limited",
          `too many wrong tokens ${i === 0 ? "from this address" : "for this token"}: try again in ${wait} s`,
        );
      }
    },
    async failed(req, token) {
      const prefix = tokenPrefix(token);
      if (prefix) prefixes.set(req, prefix);
      await Promise.all([byClient(req), prefix ? byPrefix(req) : undefined]);
    },
  };
}
