// A small client written against the types openapi-typescript generates from openapi.yaml
// (`api.d.ts`). tests/unit/test_openapi_contract.py compiles it with `tsc --strict`: a change to
// the spec that breaks what a frontend relies on (a renamed field, a lost enum value, a reason
// the app branches on) fails that test.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type PublishBody = Schemas["PublishBody"];
type Post = Schemas["Post"];
type ErrorBody = Schemas["Error"];
type Reason = Schemas["ErrorReason"];
type Published =
  paths["/api/publish"]["post"]["responses"][201]["content"]["application/json"];
type Progress =
  paths["/api/publish/{post_id}/chunks/{n}"]["put"]["responses"][200]["content"]["application/json"];
type Status =
  paths["/api/publish/{post_id}/status"]["get"]["responses"][200]["content"]["application/json"];
type Export =
  paths["/api/me/export"]["get"]["responses"][200]["content"]["application/json"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly retryAfterSeconds: number | null,
  ) {
    super(describe(body));
  }
}

export function describe(body: ErrorBody): string {
  const reason: Reason | undefined = body.error.reason;
  switch (reason) {
    case "request.unknown_field":
      return `the app sent a field the API does not know: ${body.error.field ?? "?"}`;
    case "post.privacy_level_missing":
      return "choose who can see this post";
    case "tiktok.rate_limit_exceeded":
      return "TikTok is busy; trying again shortly";
    default:
      return body.error.message;
  }
}

async function call<T>(path: string, init: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: "same-origin", ...init });
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const body = (await response.json()) as ErrorBody;
    throw new ApiError(response.status, body, retry === null ? null : Number(retry));
  }
  return (await response.json()) as T;
}

export function publishFile(openId: string, file: Blob, durationSec: number): Promise<Published> {
  const body: PublishBody = {
    open_id: openId,
    mode: "direct",
    media: { type: "video", source: "file", size: file.size, chunk_size: 10_000_000 },
    post: {
      title: "Sunset run",
      privacy_level: "SELF_ONLY",
      allow_comment: false,
      allow_duet: false,
      allow_stitch: false,
      brand_content: false,
      brand_organic: false,
      is_aigc: false,
    },
    duration_sec: durationSec,
  };
  return call<Published>("/api/publish", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

export function confirmDraft(draftId: string): Promise<Published> {
  const body: PublishBody = { draft_id: draftId, post: { privacy_level: "MUTUAL_FOLLOW_FRIENDS" } };
  return call<Published>("/api/publish", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

export async function uploadChunks(file: Blob, post: Post): Promise<Progress | null> {
  const plan = post.upload;
  if (plan === null) {
    return null; // TikTok pulls this post's media itself
  }
  let progress: Progress | null = null;
  for (let n = post.next_chunk ?? 0; n < plan.total_chunks; n += 1) {
    const first = n * plan.chunk_size;
    const last = n === plan.total_chunks - 1 ? plan.video_size : first + plan.chunk_size;
    progress = await call<Progress>(`/api/publish/${post.id}/chunks/${n}`, {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: file.slice(first, last),
    });
  }
  return progress;
}

export async function followStatus(postId: string): Promise<Status["post"]> {
  const { post } = await call<Status>(`/api/publish/${postId}/status`, { method: "GET" });
  if (post.stale && post.stale_reason === "poll_budget") {
    console.info(`stored status; TikTok is asked again in ${post.retry_after ?? 5} s`);
  }
  const mode: "direct" | "inbox" = post.mode ?? "direct";
  const source: "FILE_UPLOAD" | "PULL_FROM_URL" | undefined = post.source;
  console.info(mode, source, post.media_type === "photo" ? "photos" : "video");
  return post;
}

export async function exportJson(): Promise<Export> {
  return call<Export>("/api/me/export?format=json", { method: "GET" });
}

export async function exportCsvZip(): Promise<Blob> {
  const response = await fetch("/api/me/export?format=csv", { credentials: "same-origin" });
  if (!response.ok) {
    throw new ApiError(response.status, (await response.json()) as ErrorBody, null);
  }
  return response.blob(); // application/zip: bytes, never JSON
}

// What the types must refuse: a typo'd post setting, a mode the API does not have.
// @ts-expect-error `caption` is not a post setting (the API refuses it: request.unknown_field)
export const typo: Schemas["PostSettings"] = { caption: "Sunset run" };
// @ts-expect-error there is no "schedule" mode
export const wrongMode: Schemas["PublishMode"] = "schedule";
