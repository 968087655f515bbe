import type { FastifyInstance } from "fastify";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "../review/pages.js";
import { workspaceAuditRoutes } from "./audit.routes.js";
import { workspaceCampaignRoutes } from "./campaigns.routes.js";
import { workspaceAssetRoutes } from "./common.js";
import { workspaceCoverageRoutes } from "./coverage.routes.js";
import { workspaceDeliveryRoutes } from "./delivery.routes.js";
import { workspaceDropsRoutes } from "./drops.routes.js";
import { workspaceLogoRoutes } from "./logo.routes.js";
import { workspaceProgressRoutes } from "./progress.routes.js";
import { workspaceQuoteRoutes } from "./quotes.routes.js";
import { workspaceSpeakerRoutes } from "./speakers.routes.js";
import { workspaceUserRoutes } from "./users.routes.js";

/** The staff workspace: server-rendered pages in the review page's session, with the API's permissions. */
export function workspaceRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  workspaceAssetRoutes(app);
  workspaceQuoteRoutes(app, deps, pages);
  workspaceSpeakerRoutes(app, deps, pages);
  workspaceUserRoutes(app, deps, pages);
  workspaceCampaignRoutes(app, deps, pages);
  workspaceLogoRoutes(app, deps);
  workspaceProgressRoutes(app, deps, pages);
  workspaceDropsRoutes(app, deps, pages);
  workspaceDeliveryRoutes(app, deps, pages);
  workspaceCoverageRoutes(app, deps, pages);
  workspaceAuditRoutes(app, deps, pages);
}
