import type { Logger } from "../logger.js";
import type { Queues } from "../queues/queues.js";
import type { TextTemplates } from "../render/text/text.render.js";
import type { BlobStore } from "../storage/index.js";
import type { SessionStore } from "../store/session.store.js";
import type { Store } from "../store/store.js";
import type { TokenLimits, TokenThrottle } from "./token-throttle.js";

/** What buildApp is given: plain values, no container. */
export type AppDeps = {
  store: Store;
  queues: Queues;
  templates: TextTemplates;
  dataDir: string;
  log: Logger;
  /** Where bundles are written and served from. */
  exportDir: string;
  /** Blob storage (createStorage): with S3, cards are read and bundles delivered there. Unset: the folders above. */
  files?: BlobStore;
  bundles?: BlobStore;
  /** The web surface's settings from the configuration; tests may leave them out. */
  web?: WebOptions;
};

export type WebOptions = {
  /** PUBLIC_URL: when it is https, every cookie is Secure (the TLS may end at a proxy in front). */
  publicUrl?: string;
  /** METRICS_TOKEN: /metrics wants it as a bearer token; unset, /metrics answers loopback clients only. */
  metricsToken?: string;
  /** Wrong-token limits (tests shrink the window). */
  tokenLimits?: TokenLimits;
};

/** Inside the app, with the session store made from the store. */
export type HttpDeps = AppDeps & {
  sessions: SessionStore;
  throttle: TokenThrottle;
  /** true behind an https PUBLIC_URL; else "auto" (Secure when the request itself came over TLS). */
  secureCookies: true | "auto";
};
