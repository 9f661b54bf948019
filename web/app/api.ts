// The one HTTP client of the agent app: JSON in and out, the bearer token attached, an access
// token refreshed once on a 401, and the API's error shape turned into `ApiError` with its field.
import { session, refreshSession, signedOut } from "./auth";

export const API = "/api/v1";

/** An error answer of the API: `{"error": {code, message, details: {field}}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Sent as is (multipart uploads): no JSON encoding, the browser sets the content type. */
  form?: FormData;
  headers?: Record<string, string>;
  /** For the sign-in calls: no bearer token, no refresh on 401. */
  anonymous?: boolean;
  signal?: AbortSignal;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = "http_" + res.status;
  let message = res.statusText || "request failed";
  let field: string | undefined;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      field = body.error.details?.field;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  const retry = Number(res.headers.get("retry-after"));
  return new ApiError(res.status, code, message, field, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

async function send(path: string, opts: RequestOptions, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: BodyInit | undefined;
  if (opts.form) {
    body = opts.form;
  } else if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (token) headers["authorization"] = "Bearer " + token;
  return fetch(path.startsWith("/") && !path.startsWith(API) ? API + path : path, {
    method: opts.method ?? (body ? "POST" : "GET"),
    headers,
    body,
    signal: opts.signal,
  });
}

/** The raw response of an authenticated call (for downloads); errors are thrown as `ApiError`. */
export async function raw(path: string, opts: RequestOptions = {}): Promise<Response> {
  let res = await send(path, opts, opts.anonymous ? undefined : session.value?.accessToken);
  if (res.status === 401 && !opts.anonymous && session.value) {
    if (await refreshSession()) {
      res = await send(path, opts, session.value?.accessToken);
    }
    if (res.status === 401) signedOut("Your session ended. Sign in again.");
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

/** A call whose answer is `{"data": T}`; returns `T` (or `undefined` for 204). */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await raw(path, opts);
  if (res.status === 204) return undefined as T;
  const body = await res.json();
  return body.data as T;
}

/** A call whose whole answer is wanted (cursor lists: `{data, nextCursor, prevCursor}`). */
export async function apiPage<T>(path: string, opts: RequestOptions = {}): Promise<Page<T>> {
  const res = await raw(path, opts);
  return (await res.json()) as Page<T>;
}

export interface Page<T> {
  data: T[];
  nextCursor?: string | null;
  prevCursor?: string | null;
  pagination?: { page: number; limit: number; total: number; totalPages: number };
}

/** Query string from an object, leaving out empty values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}
