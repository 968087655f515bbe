import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, ERRORS, type ErrorCode, type ErrorDetail } from "../domain/errors.js";
import { redisFault } from "../store/redis.js";
import { DEFAULT_LANGUAGE, loadTranslator, requestLanguage, type Translator } from "./i18n.js";
import { issueDetails } from "./zod.js";

export type ErrorBody = {
  error: ErrorCode;
  message: string;
  details: ErrorDetail[];
};

/** Fastify's own 4xx errors (bad JSON, too large, wrong media type) keep their status under our codes. */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  return "invalid_input";
}

export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return {
      status: ERRORS[err.code].http,
      body: { error: err.code, message: err.message, details: err.details },
    };
  }
  const fe = err as FastifyError & { validation?: unknown; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const where = fe.validationContext ?? "body";
    const details = issueDetails(fe.validation, where);
    const message = `invalid ${where}: ${details.map((d) => `${d.field}: ${d.message}`).join("; ")}`;
    return { status: 400, body: { error: "invalid_input", message, details } };
  }
  const fault = redisFault(err);
  if (fault) {
    const oom = fault === "oom";
    return {
      status: 503,
      body: {
        error: "unavailable",
        message: oom
          ? "the store (Redis) is out of memory and refuses writes; nothing was changed; try again shortly"
          : "the store (Redis) is unreachable; try again shortly",
        details: [],
      },
    };
  }
  const status = fe.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status, body: { error: codeForStatus(status), message: fe.message, details: [] } };
  }
  return {
    status: 500,
    body: { error: "internal", message: "internal error; see the server log", details: [] },
  };
}

/** Pages want HTML errors; everything else gets the JSON body. */
const wantsHtml = (req: FastifyRequest) =>
  req.method === "GET" && (req.headers.accept ?? "").includes("text/html") && !req.url.startsWith("/api/");

export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown) {
  const { status, body } = toErrorReply(err);
  if (status === 503) reply.header("retry-after", "2");
  if (status >= 500) req.log.error({ err }, "request failed");
  else req.log.info({ error: body.error, status }, body.message);
  if (status === 401 && req.url.startsWith("/api/")) reply.header("www-authenticate", "Bearer");
  reply.code(status);
  if (wantsHtml(req))
    return reply.type("text/html; charset=utf-8").send(errorPage(req, status, body.error, body.message));
  return reply.type("application/json; charset=utf-8").send(body);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The pages' catalogues, read on the first HTML error (most processes never show one). */
let pageWords: Translator | undefined;

/**
 * A page's error in the reader's language: English keeps the error's own sentence; another language
 * says its code's words from the catalogue (`error.<code>`), since the sentence comes from a service.
 */
function errorPage(req: FastifyRequest, status: number, code: ErrorCode, message: string): string {
  pageWords ??= loadTranslator();
  const lang = requestLanguage(req, pageWords);
  const said = lang === DEFAULT_LANGUAGE ? message : pageWords.t(lang, `error.${code}`);
  const back = pageWords.t(lang, "errorPage.back");
  return `<!doctype html><html lang="${lang}" dir="${pageWords.dir(lang)}"><meta charset="utf-8"><title>${status}</title><link rel="stylesheet" href="/review/assets/review.css"><main class="narrow"><h1>${status}</h1><p>${escapeHtml(said)}</p><p><a href="/review">${escapeHtml(back)}</a></p></main></html>`;
}

export function registerErrorHandlers(app: FastifyInstance) {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new AppError("not_found", `no route ${req.method} ${req.url.split("?")[0]}`)),
  );
}
