// Staging one file for a post: a slot from POST /api/media, the bytes sent straight to the
// bucket through the upload URL it returns (one XHR PUT, so the browser reports upload progress),
// then POST /api/media/{id}/complete, where the server checks the real bytes. A refusal at either
// step comes back as the ApiError the server sent (its message names the limit).
import { ApiError, request } from "./api/client";
import type { CreateMediaResponse, MediaSlotBody, StagedMedia, StagedMediaResponse } from "./api/types";

export type StageEvent =
  | { kind: "uploading"; sent: number; total: number }
  | { kind: "checking" };

/** The content types TikTok takes, as the API declares them (MediaSlotBody). */
export type DeclaredType = MediaSlotBody["content_type"];

const BY_EXTENSION: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  png: "image/png",
  heic: "image/heic",
  heif: "image/heif",
  mp4: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
};

/** The type to declare for ``file``: what the browser says, or what its name says when it says nothing. */
export function declaredType(file: File): string {
  if (file.type) return file.type;
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  return BY_EXTENSION[extension] ?? "application/octet-stream";
}

function put(url: string, method: string, headers: Record<string, string>, file: File, onBytes: (sent: number) => void, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => onBytes(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      // Not a refusal of the photo (the API checks it on completion): the upload itself failed.
      else reject(new Error(`The upload did not go through (the storage service answered HTTP ${xhr.status}). Try again.`));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "UNAVAILABLE", message: "The connection was lost during the upload." }));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

/** Stages ``file`` as a ``type`` and resolves with the ready slot; rejects with the server's refusal. */
export async function stage(type: "photo" | "video", file: File, emit: (e: StageEvent) => void, signal: AbortSignal): Promise<StagedMedia> {
  const body = { type, content_type: declaredType(file) as DeclaredType, size: file.size };
  const { media } = await request<CreateMediaResponse>("/api/media", { method: "POST", body, signal });
  const upload = media.upload;
  if (!upload) throw new Error("The server gave no upload URL for this file.");
  emit({ kind: "uploading", sent: 0, total: file.size });
  await put(upload.url, upload.method, upload.headers, file, (sent) => emit({ kind: "uploading", sent, total: file.size }), signal);
  emit({ kind: "uploading", sent: file.size, total: file.size });
  emit({ kind: "checking" });
  const done = await request<StagedMediaResponse>(`/api/media/${encodeURIComponent(media.id)}/complete`, { method: "POST", signal });
  return done.media;
}

/** Deletes a staged object the user removed before posting (best effort: it expires anyway). */
export function discard(mediaId: string): void {
  void request(`/api/media/${encodeURIComponent(mediaId)}`, { method: "DELETE" }).catch(() => undefined);
}
