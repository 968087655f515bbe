import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { HttpDeps } from "../deps.js";
import { uploadedLogo } from "../logo-upload.js";
import { actionAccess } from "./common.js";

const logoBody = z.object({
  /** The chosen file as a data: URL (PNG or SVG, at most 2 MB), read by workspace.js. */
  logo: z.string().max(3_000_000, "at most 2 MB"),
  _csrf: z.string().optional(),
});

/**
 * Logo upload for the campaign form: the file is stored through the same brand service as the API's
 * (`uploadedLogo`: type and size checked, re-encoded, kept in Redis), and its `blob:` reference comes
 * back for the form's hidden `logo` field and the live preview's drafts. Nothing else changes until
 * the form is saved.
 */
export function workspaceLogoRoutes(app: FastifyInstance, deps: HttpDeps) {
  app.post(
    "/workspace/campaigns/logo",
    { config: actionAccess("campaigns:write"), schema: { body: logoBody } },
    async (req) => {
      const { logo } = req.body as z.output<typeof logoBody>;
      const stored = await uploadedLogo(deps.store, { brand: { logo } });
      const ref = (stored.brand as { logo: string }).logo;
      req.log.info({ logo: ref.slice(0, 17) }, "logo uploaded in the workspace");
      return { logo: ref };
    },
  );
}
