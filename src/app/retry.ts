import { AppError } from "../domain/errors.js";

/**
 * Optimistic writes lose now and then to a concurrent review, withdrawal or drop: the step re-reads,
 * recomputes and commits again. Anything but a conflict is thrown at once.
 */
export async function retryOnConflict<T>(
  step: () => Promise<T>,
  opts: { tries: number; exhausted?: string },
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "conflict") throw err;
      if (i >= opts.tries) throw opts.exhausted ? new AppError("conflict", opts.exhausted) : err;
    }
  }
}
