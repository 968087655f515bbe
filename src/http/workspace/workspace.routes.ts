import type { FastifyInstance } from "fastify";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "../review/pages.js";
import { workspaceCampaignRoutes } from "./campaigns.routes.js";
import { workspaceAssetRoutes } from "./common.js";
import { workspaceQuoteRoutes } from "./quotes.routes.js";
import { workspaceSpeakerRoutes } from "./speakers.routes.js";

/** The staff workspace: server-rendered pages in the review page's session, with the API's permissions. */
export function workspaceRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  workspaceAssetRoutes(app);
  workspaceQuoteRoutes(app, deps, pages);
  workspaceSpeakerRoutes(app, deps, pages);
  workspaceCampaignRoutes(app, deps, pages);
}
