// Staging one file for a post: a slot from POST /api/media, the bytes sent straight to the
// bucket through the resumable upload session it returns, then POST /api/media/{id}/complete,
// where the server checks the real bytes. A refusal at either step comes back as the ApiError the
// server sent (its message names the limit).
//
// The bytes go in pieces of PIECE_BYTES, each a PUT with its Content-Range (the resumable
// protocol, https://cloud.google.com/storage/docs/performing-resumable-uploads#chunked-upload):
// a piece the session took is answered 308 (the last one 200), so a lost connection costs at most
// the piece in flight. It is sent again from the last offset the session confirmed, after a short
// wait, up to RETRIES times; then the Stager stops with the connection error and ``run`` again
// goes on in the same session (the post page's "Resume upload"). The status query
// (`Content-Range: bytes */<size>`) is not used: fake-gcs-server, the local stack's bucket, takes
// it as the last piece and closes the object short (docs/web-app.md).
import { ApiError, request } from "./api/client";
import type { CreateMediaResponse, MediaSlotBody, StagedMedia, StagedMediaResponse } from "./api/types";

export type StageEvent =
  | { kind: "uploading"; sent: number; total: number }
  | { kind: "retrying"; sent: number; total: number; attempt: number; of: number; waitMs: number }
  | { kind: "checking" };

/** The content types TikTok takes, as the API declares them (MediaSlotBody). */
export type DeclaredType = MediaSlotBody["content_type"];

/** A piece of the upload: a multiple of 256 KiB, as Cloud Storage requires of every piece but the last. */
export const PIECE_BYTES = 8 * 1024 * 1024;
export const RETRIES = 4;

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

/** Whether an error is a lost connection (or the storage service failing), worth sending again. */
export function isTransient(exc: unknown): boolean {
  return exc instanceof ApiError && (exc.status === 0 || exc.status >= 500);
}

/** Sends bytes ``start``..``end`` (exclusive) of ``file``; resolves with the offset the session has. */
function putPiece(
  target: { url: string; method: string; headers: Record<string, string> },
  file: File,
  start: number,
  end: number,
  onBytes: (sent: number) => void,
  signal: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.method, target.url);
    for (const [name, value] of Object.entries(target.headers)) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Content-Range", `bytes ${start}-${end - 1}/${file.size}`);
    xhr.upload.onprogress = (e) => onBytes(start + e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(file.size);
      } else if (xhr.status === 308) {
        // "Range: bytes=0-N" says what the session holds. Cloud Storage shows it to the page only
        // where its CORS answer exposes it; without it, the piece answered is taken as held (and
        // completion checks the object's real size whatever happened).
        const held = /bytes=0-(\d+)/.exec(xhr.getResponseHeader("Range") ?? "");
        resolve(held ? Number(held[1]) + 1 : end);
      } else if (xhr.status >= 500) {
        reject(new ApiError(xhr.status, { code: "UNAVAILABLE", message: `The storage service answered HTTP ${xhr.status}.` }));
      } else {
        // Not a refusal of the file (the API checks it on completion): the upload itself failed.
        reject(new Error(`The upload did not go through (the storage service answered HTTP ${xhr.status}). Try again.`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "UNAVAILABLE", message: "The connection was lost during the upload." }));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file.slice(start, end));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        window.clearTimeout(timer);
        reject(new DOMException("aborted", "AbortError"));
      },
      { once: true },
    );
  });
}

/** One file's staging: its slot, how much of it the upload session holds, and its completion. */
export class Stager {
  private slot: CreateMediaResponse["media"] | null = null;
  private offset = 0;

  constructor(
    readonly type: "photo" | "video",
    readonly file: File,
  ) {}

  /** The slot's id once the server gave one (to delete it when the user lets the file go). */
  get mediaId(): string | null {
    return this.slot?.id ?? null;
  }

  /** The bytes the upload session holds, as far as the page knows. */
  get sent(): number {
    return this.offset;
  }

  /** Whether ``run`` again would go on in the same upload session rather than start over. */
  get started(): boolean {
    return this.slot !== null;
  }

  /** Stages the file (or goes on from where the last run stopped); the ready slot, or the refusal. */
  async run(emit: (e: StageEvent) => void, signal: AbortSignal): Promise<StagedMedia> {
    const file = this.file;
    if (!this.slot) {
      const body = { type: this.type, content_type: declaredType(file) as DeclaredType, size: file.size };
      const { media } = await request<CreateMediaResponse>("/api/media", { method: "POST", body, signal });
      if (!media.upload) throw new Error("The server gave no upload URL for this file.");
      this.slot = media;
    }
    const target = this.slot.upload!;
    let failures = 0;
    emit({ kind: "uploading", sent: this.offset, total: file.size });
    while (this.offset < file.size) {
      const end = Math.min(file.size, this.offset + PIECE_BYTES);
      try {
        this.offset = await putPiece(target, file, this.offset, end, (sent) => emit({ kind: "uploading", sent, total: file.size }), signal);
        failures = 0;
        emit({ kind: "uploading", sent: this.offset, total: file.size });
      } catch (exc) {
        if (!isTransient(exc) || failures >= RETRIES) throw exc;
        failures += 1;
        const waitMs = 500 * 2 ** (failures - 1);
        emit({ kind: "retrying", sent: this.offset, total: file.size, attempt: failures, of: RETRIES, waitMs });
        await sleep(waitMs, signal);
      }
    }
    emit({ kind: "checking" });
    const done = await request<StagedMediaResponse>(`/api/media/${encodeURIComponent(this.slot.id)}/complete`, { method: "POST", signal });
    return done.media;
  }
}

/** Stages ``file`` as a ``type`` and resolves with the ready slot; rejects with the server's refusal. */
export function stage(type: "photo" | "video", file: File, emit: (e: StageEvent) => void, signal: AbortSignal): Promise<StagedMedia> {
  return new Stager(type, file).run(emit, signal);
}

/** Deletes a staged object the user let go before posting (best effort: it expires anyway). */
export function discard(mediaId: string): void {
  void request(`/api/media/${encodeURIComponent(mediaId)}`, { method: "DELETE" }).catch(() => undefined);
}
