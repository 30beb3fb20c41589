// Upload: the progress bar of a file upload, resumable after a lost connection or a reload
// (pick the same file again), and cancellable (DELETE /api/publish/{id} abandons it).
import { useEffect, useRef, useState } from "preact/hooks";
import { request } from "../api/client";
import type { StatusResponse } from "../api/types";
import { navigate } from "../router";
import { upload, type UploadEvent } from "../upload";
import { attach, fileFor, forget, mismatch, pending } from "../uploads";
import { ErrorMessage, formatBytes, PageTitle } from "../ui";

type Phase = "idle" | "uploading" | "retrying" | "paused" | "done" | "failed" | "cancelling";

export function UploadPage({ postId }: { postId: string }) {
  const [file, setFile] = useState<File | undefined>(() => fileFor(postId));
  const [expected, setExpected] = useState<number | null>(null);
  const [phase, setPhase] = useState<Phase>("idle");
  const [sent, setSent] = useState(0);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [pickError, setPickError] = useState<string | null>(null);
  const [announced, setAnnounced] = useState("");
  const controller = useRef<AbortController | null>(null);
  const known = pending(postId);
  const percent = total ? Math.floor((sent / total) * 100) : 0;

  // The size the server expects, to check a re-picked file.
  useEffect(() => {
    request<StatusResponse>(`/api/publish/${encodeURIComponent(postId)}/status`).then(
      ({ post }) => {
        if (post.upload) {
          setExpected(post.upload.video_size);
          setTotal(post.upload.video_size);
          setSent(post.uploaded_bytes ?? 0);
        }
        if (!post.upload || post.upload_complete || post.status === "FAILED") {
          forget(postId);
          navigate(`/posts/${encodeURIComponent(postId)}`, { replace: true });
        }
      },
      (exc) => setError(exc),
    );
  }, [postId]);

  const start = (chosen: File) => {
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    setPhase("uploading");
    setError(null);
    const emit = (e: UploadEvent) => {
      if (e.kind === "progress") {
        setSent(e.sent);
        setTotal(e.total);
        const step = Math.floor((e.sent / e.total) * 10) * 10;
        setAnnounced(`Uploaded ${step} %`);
      } else if (e.kind === "retrying") {
        setPhase("retrying");
        setError(e.error);
      } else if (e.kind === "paused") {
        setPhase("paused");
        setError(e.error);
      } else {
        setPhase("done");
        setAnnounced("Upload complete");
      }
    };
    upload(postId, chosen, (e) => {
      if (e.kind === "progress") setPhase((p) => (p === "retrying" ? "uploading" : p));
      emit(e);
    }, abort.signal).then(
      (finished) => {
        if (!finished || abort.signal.aborted) return;
        forget(postId);
        // Let the full bar be seen, then follow the post until TikTok finishes it.
        window.setTimeout(() => navigate(`/posts/${encodeURIComponent(postId)}`, { replace: true }), 900);
      },
      (exc) => {
        if (exc instanceof DOMException && exc.name === "AbortError") return;
        setPhase("failed");
        setError(exc);
      },
    );
  };

  useEffect(() => {
    if (file && expected !== null && phase === "idle") start(file);
  }, [file, expected]);

  useEffect(() => {
    const resume = () => file && phase === "paused" && start(file);
    window.addEventListener("online", resume);
    return () => window.removeEventListener("online", resume);
  }, [file, phase]);

  useEffect(() => () => controller.current?.abort(), []);

  const pick = (chosen: File | null) => {
    if (!chosen || expected === null) return;
    const problem = mismatch(postId, chosen, expected);
    setPickError(problem);
    if (problem) return;
    attach(postId, chosen);
    setFile(chosen);
  };

  const cancel = async () => {
    setPhase("cancelling");
    controller.current?.abort();
    try {
      await request(`/api/publish/${encodeURIComponent(postId)}`, { method: "DELETE" });
      forget(postId);
      navigate(`/posts/${encodeURIComponent(postId)}`, { replace: true });
    } catch (exc) {
      setError(exc);
      setPhase("paused");
    }
  };

  return (
    <section class="card upload">
      <PageTitle>Uploading to TikTok</PageTitle>
      {(file || known) && (
        <p>
          <strong>{file?.name ?? known?.name}</strong> · {formatBytes(expected ?? file?.size ?? known?.size ?? 0)}
        </p>
      )}
      <label for="upload-progress">Upload progress</label>
      <progress id="upload-progress" max={total || 1} value={sent} aria-valuetext={`${percent} % (${formatBytes(sent)} of ${formatBytes(total)})`} />
      <p class="progress-text" aria-hidden="true">
        {percent} % · {formatBytes(sent)} of {formatBytes(total)}
      </p>
      <p class="visually-hidden" role="status" aria-live="polite">
        {announced}
      </p>
      {!file && expected !== null && (
        <div class="field">
          <p>
            The upload stopped when the page was closed. Choose the same file{known ? ` (${known.name})` : ""} to continue where it stopped.
          </p>
          <label for="resume-file">The same video file</label>
          <input id="resume-file" type="file" accept="video/mp4,video/quicktime,video/webm" onChange={(e) => pick((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} aria-describedby={pickError ? "resume-error" : undefined} />
          {pickError && (
            <p class="field-error" id="resume-error" role="alert">
              {pickError}
            </p>
          )}
        </div>
      )}
      {phase === "retrying" && (
        <p class="warning" role="status">
          The connection dropped. Trying again from where TikTok stopped…
        </p>
      )}
      {phase === "paused" && error !== null && (
        <ErrorMessage error={error}>
          <p>The upload is paused. It continues from where it stopped.</p>
          <button type="button" class="button-primary" onClick={() => file && start(file)}>
            Resume upload
          </button>
        </ErrorMessage>
      )}
      {phase === "failed" && error !== null && <ErrorMessage error={error} />}
      {phase === "done" && (
        <p class="success" role="status">
          Upload complete. TikTok is processing your video…
        </p>
      )}
      {phase !== "done" && (
        <div class="actions">
          <button type="button" class="button-quiet-danger" onClick={cancel} disabled={phase === "cancelling"}>
            {phase === "cancelling" ? "Cancelling…" : "Cancel upload"}
          </button>
        </div>
      )}
      <p class="hint">Keep this page open until the upload finishes. Nothing is posted until TikTok has the whole file.</p>
    </section>
  );
}
