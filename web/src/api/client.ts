// The one small API client: same-origin fetch with the session cookie, JSON in and out, and every
// error turned into an ApiError that keeps the server's code and reason (for support).
import type { ApiErrorBody } from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly reason: string | undefined;
  readonly field: string | undefined;
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Partial<ApiErrorBody> & Record<string, unknown>) {
    super(body.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body.code || "UNKNOWN";
    this.reason = body.reason;
    this.field = typeof body.field === "string" ? body.field : undefined;
    this.body = body;
  }

  /** What to tell the user, in plain words. */
  get plain(): string {
    if (this.status === 0) return "We could not reach the server. Check your connection and try again.";
    if (this.status === 503 || this.status === 504)
      return "The service is busy or TikTok did not answer in time. Please try again in a moment.";
    if (this.status === 429) return "Too many requests in a short time. Wait a minute, then try again.";
    if (this.status === 401) return "Your session has ended. Please sign in again.";
    if (this.status >= 500) return "Something went wrong on our side. Please try again.";
    return this.message;
  }
}

type Unauthenticated = () => void;
let onUnauthenticated: Unauthenticated = () => {};

/** Called on any 401 (except the session probe): the app returns to sign-in. */
export function setUnauthenticatedHandler(handler: Unauthenticated): void {
  onUnauthenticated = handler;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> & Record<string, unknown> = {};
  try {
    const parsed = (await response.json()) as { error?: Partial<ApiErrorBody> & Record<string, unknown> };
    body = parsed.error ?? {};
  } catch {
    // Not JSON (a proxy page): keep the status only.
  }
  return new ApiError(response.status, body);
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  body?: unknown;
  query?: Record<string, string | undefined | null>;
  /** The session probe expects 401 when signed out: do not redirect. */
  quiet401?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export function url(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const init: RequestInit = {
    method: options.method ?? "GET",
    credentials: "same-origin",
    headers: { Accept: "application/json", ...options.headers },
    signal: options.signal,
  };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  let response: Response;
  try {
    response = await fetch(url(path, options.query), init);
  } catch (exc) {
    if (exc instanceof DOMException && exc.name === "AbortError") throw exc;
    throw new ApiError(0, { code: "UNAVAILABLE", message: "network error" });
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !options.quiet401) onUnauthenticated();
    throw error;
  }
  return (await response.json()) as T;
}

export { errorFrom };
