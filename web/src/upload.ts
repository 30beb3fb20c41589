// The chunked upload: chunks in plan order through PUT /api/publish/{id}/chunks/{n}, progress in
// bytes from XHR upload events and the server's answers, and resume from the chunk the server
// says is next (after a lost connection, a 409, or a reload).
import { ApiError, request } from "./api/client";
import type { ChunkProgress, StatusResponse } from "./api/types";

export interface Plan {
  video_size: number;
  chunk_size: number;
  total_chunks: number;
}

export type UploadEvent =
  | { kind: "progress"; sent: number; total: number }
  | { kind: "retrying"; attempt: number; waitMs: number; error: unknown }
  | { kind: "paused"; error: unknown }
  | { kind: "done" };

export function chunkRange(plan: Plan, n: number): [number, number] {
  const start = n * plan.chunk_size;
  const end = n === plan.total_chunks - 1 ? plan.video_size : start + plan.chunk_size;
  return [start, end];
}

function putChunk(postId: string, n: number, body: Blob, onBytes: (loaded: number) => void, signal: AbortSignal): Promise<ChunkProgress> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/publish/${encodeURIComponent(postId)}/chunks/${n}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => onBytes(e.loaded);
    xhr.onload = () => {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: keep null.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(parsed as ChunkProgress);
      else reject(new ApiError(xhr.status, ((parsed as { error?: Record<string, unknown> } | null)?.error ?? {}) as Record<string, unknown>));
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "UNAVAILABLE", message: "The connection was lost during the upload." }));
    xhr.ontimeout = xhr.onerror;
    const abort = () => xhr.abort();
    signal.addEventListener("abort", abort, { once: true });
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    xhr.send(body);
  });
}

const RETRIES = 4;

/** Uploads from the chunk the server expects until TikTok has the whole file. */
/** Resolves true once TikTok has the whole file, false when paused after repeated failures. */
export async function upload(postId: string, file: File, emit: (e: UploadEvent) => void, signal: AbortSignal): Promise<boolean> {
  let failures = 0;
  for (;;) {
    // Ask the server where to start: it knows what TikTok received.
    const { post } = await request<StatusResponse>(`/api/publish/${encodeURIComponent(postId)}/status`, { signal });
    const plan = post.upload;
    if (!plan) throw new Error("This post has no file upload.");
    if (post.upload_complete || post.next_chunk === null || post.next_chunk === undefined) {
      emit({ kind: "progress", sent: plan.video_size, total: plan.video_size });
      emit({ kind: "done" });
      return true;
    }
    let n = post.next_chunk;
    emit({ kind: "progress", sent: post.uploaded_bytes ?? chunkRange(plan, n)[0], total: plan.video_size });
    try {
      while (n < plan.total_chunks) {
        const [start, end] = chunkRange(plan, n);
        const answer = await putChunk(
          postId,
          n,
          file.slice(start, end),
          (loaded) => emit({ kind: "progress", sent: start + loaded, total: plan.video_size }),
          signal,
        );
        failures = 0;
        emit({ kind: "progress", sent: answer.uploaded_bytes, total: answer.total_bytes });
        if (answer.complete) {
          emit({ kind: "done" });
          return true;
        }
        n = answer.next_chunk ?? n + 1;
      }
    } catch (exc) {
      if (exc instanceof DOMException && exc.name === "AbortError") throw exc;
      if (exc instanceof ApiError && exc.status === 409) continue; // Out of order: ask again.
      const transient = exc instanceof ApiError && (exc.status === 0 || exc.status >= 500);
      if (!transient) throw exc;
      failures += 1;
      if (failures > RETRIES) {
        emit({ kind: "paused", error: exc });
        return false;
      }
      const waitMs = 500 * 2 ** (failures - 1);
      emit({ kind: "retrying", attempt: failures, waitMs, error: exc });
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
