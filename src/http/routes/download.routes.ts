import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import {
  LINK_MAX_TTL_S,
  LINK_TTL_S,
  openBundleZip,
  readDownloadToken,
  signDownloadToken,
} from "../../app/download.service.js";
import { signingKey } from "../../store/signing-key.store.js";
import type { AppDeps } from "../deps.js";
import { apiRoute } from "../route.js";

const bundleIdParam = z.object({ id: z.string().max(200) });

/**
 * Bundle downloads: GET /api/bundles/:id/download for staff and reviewers; POST /api/bundles/:id/link
 * makes a signed, expiring link (/d/<token>) that downloads that one bundle with no account (webhook
 * consumers, partners). Both stream the zip from whichever storage holds it.
 */
export function downloadRoutes(app: FastifyInstance, deps: AppDeps) {
  let key: Promise<Buffer> | undefined;
  const linkKey = () => {
    key ??= signingKey(deps.store, "download-links").catch((err) => {
      key = undefined;
      throw err;
    });
    return key;
  };
  const send = async (reply: FastifyReply, bundleId: string) => {
    const zip = await openBundleZip(deps, bundleId);
    return reply
      .type("application/zip")
      .header("content-length", zip.bytes)
      .header("content-disposition", `attachment; filename="${zip.bundle.id}.zip"`)
      .header("cache-control", "private, no-store")
      .header("etag", zip.bundle.zipSha256 ? `"${zip.bundle.zipSha256}"` : undefined)
      .send(zip.stream);
  };

  apiRoute(app, {
    method: "GET",
    url: "/api/bundles/:id/download",
    summary: "The bundle's zip, streamed from storage",
    tags: ["bundles"],
    permission: "read",
    auth: "any", // the workspace's drops page links to it
    produces: "application/zip",
    schema: { params: bundleIdParam },
    handler: async ({ params, reply }) => send(reply, params.id),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/bundles/:id/link",
    summary:
      "A signed download link for one bundle: no account needed, expires (default 24 h, at most 7 days)",
    tags: ["bundles"],
    permission: "bundles:write",
    schema: {
      params: bundleIdParam,
      body: z.object({ ttlSeconds: z.number().int().min(1).max(LINK_MAX_TTL_S).optional() }).optional(),
      response: { 200: z.object({ url: z.string(), expiresAt: z.string() }) },
    },
    handler: async ({ params, body }) => {
      const zip = await openBundleZip(deps, params.id); // only a complete bundle that is there gets a link
      zip.stream.destroy();
      const expiresAt = new Date(Date.now() + (body?.ttlSeconds ?? LINK_TTL_S) * 1000);
      const token = signDownloadToken(await linkKey(), zip.bundle.id, expiresAt);
      const base = deps.web?.publicUrl?.replace(/\/$/, "") ?? "";
      return { url: `${base}/d/${token}`, expiresAt: expiresAt.toISOString() };
    },
  });

  app.get<{ Params: { token: string } }>(
    "/d/:token",
    { config: { access: { auth: "public" } } },
    async (req, reply) => send(reply, readDownloadToken(await linkKey(), req.params.token)),
  );
}
