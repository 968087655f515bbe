import { type ExportResult, exportSlot } from "../app/export.service.js";
import type { Logger } from "../logger.js";
import type { AppDeps } from "./deps.js";

/**
 * A drop asked for over HTTP (the API's export and the workspace's "Drop now"): the scheduled drop's
 * code path on the current second's slot, with the deliver queue, so deliveries are queued at once.
 */
export function dropNow(
  deps: AppDeps,
  campaignId: string,
  actor: string,
  log: Logger,
): Promise<ExportResult> {
  const slot = new Date(Math.floor(Date.now() / 1000) * 1000);
  return exportSlot(
    {
      store: deps.store,
      dataDir: deps.dataDir,
      exportDir: deps.exportDir,
      files: deps.files,
      bundles: deps.bundles,
      deliver: deps.queues.deliver,
      log,
    },
    { campaignId, slot, actor },
  );
}
