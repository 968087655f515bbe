/** A tiny client of the testimony HTTP API: bearer token, JSON in and out, any non-2xx throws. */
export type Api = <T>(method: string, path: string, token: string, body?: unknown) => Promise<T>;

export function apiClient(base: string): Api {
  return async <T>(method: string, path: string, token: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(300_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  };
}

/** 200 from /health, or undefined (for polling while a server starts). */
export async function healthy(base: string): Promise<true | undefined> {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? true : undefined;
  } catch {
    return undefined;
  }
}
