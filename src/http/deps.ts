import type { Logger } from "../logger.js";
import type { Queues } from "../queues/queues.js";
import type { TextTemplates } from "../render/text/text.render.js";
import type { SessionStore } from "../store/session.store.js";
import type { Store } from "../store/store.js";

/** What buildApp is given: plain values, no container. */
export type AppDeps = {
  store: Store;
  queues: Queues;
  templates: TextTemplates;
  dataDir: string;
  log: Logger;
  /** Where bundles are written and served from. */
  exportDir: string;
};

/** Inside the app, with the session store made from the store. */
export type HttpDeps = AppDeps & { sessions: SessionStore };
