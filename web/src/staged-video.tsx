// A video from the device staged for its post, the way such a video can be scheduled: once the
// browser has checked its length against the creator's limit, it is uploaded straight to the
// bucket (web/src/staging.ts: in pieces, sent again after a lost connection, "Resume upload"
// after repeated losses) while the user fills in the rest, and the server checks the real bytes.
// Its progress and outcome show under the file, a refusal in plain words (not a video, too long,
// too big) with the API's reason kept for support. The post then names it by its media id.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api/client";
import type { StagedMedia } from "./api/types";
import { formatDuration } from "./guidelines";
import { discard, isTransient, Stager, type StageEvent } from "./staging";
import { formatBytes } from "./ui";

export type VideoStage =
  | { kind: "idle" }
  | { kind: "uploading"; sent: number; total: number; retry?: { attempt: number; of: number; waitMs: number } }
  | { kind: "checking" }
  | { kind: "ready"; media: StagedMedia }
  | { kind: "refused"; error: ApiError }
  /** The connection was lost too often: the same upload session goes on with "Resume upload". */
  | { kind: "paused"; sent: number; total: number }
  /** The upload cannot go on (the storage service refused it, or the slot is gone): start again. */
  | { kind: "failed"; message: string };

const GB4 = 4 * 1024 ** 3;

function sentence(text: string): string {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** What is wrong with the video and what to do, in plain words, for the API's refusal. */
export function refusalText(error: ApiError, file: File, duration: number | null): string {
  const limit = typeof error.body.limit === "number" ? error.body.limit : null;
  switch (error.reason) {
    case "request.content_type":
    case "media.video_type":
      return `${file.name} is not a video TikTok takes. Choose an MP4, WebM or MOV file.`;
    case "request.size":
    case "media.video_size":
      return `This video is ${formatBytes(file.size)}; TikTok takes videos of at most ${formatBytes(limit ?? GB4)}. Choose a smaller file.`;
    case "media.video_duration":
      return `This video is ${duration !== null ? `${formatDuration(duration)} long` : "too long"}; TikTok takes videos of at most ${formatDuration(limit ?? 600)} from apps. Trim it and choose it again.`;
    default:
      return sentence(error.message);
  }
}

/** Refusals that are about the upload, not the file: starting again can work. */
const UPLOAD_TROUBLE = new Set(["media.size_mismatch", "media.upload_missing", "media.not_found"]);

function outcome(exc: unknown, stager: Stager): VideoStage {
  if (isTransient(exc) && stager.started) return { kind: "paused", sent: stager.sent, total: stager.file.size };
  if (exc instanceof ApiError && exc.status >= 400 && exc.status < 500 && exc.status !== 401 && exc.status !== 429) {
    if (exc.reason && UPLOAD_TROUBLE.has(exc.reason)) return { kind: "failed", message: `The upload did not arrive whole (${sentence(exc.message)}) Start it again.` };
    return { kind: "refused", error: exc };
  }
  return { kind: "failed", message: exc instanceof ApiError ? exc.plain : exc instanceof Error ? exc.message : String(exc) };
}

export interface StagedVideo {
  stage: VideoStage;
  resume: () => void;
  restart: () => void;
  /** The post took the video: leave its slot alone when the page goes. */
  keep: () => void;
}

/** Stages ``file`` while ``enabled``; a new file, or not staging any more, lets the old one go. */
export function useStagedVideo(file: File | null, enabled: boolean): StagedVideo {
  const [stage, setStage] = useState<VideoStage>({ kind: "idle" });
  const current = useRef<Stager | null>(null);
  const controller = useRef<AbortController | null>(null);
  const kept = useRef(false);

  const go = (stager: Stager) => {
    controller.current?.abort();
    const c = new AbortController();
    controller.current = c;
    const emit = (e: StageEvent) => {
      if (current.current !== stager) return;
      if (e.kind === "checking") setStage({ kind: "checking" });
      else if (e.kind === "retrying") setStage({ kind: "uploading", sent: e.sent, total: e.total, retry: { attempt: e.attempt, of: e.of, waitMs: e.waitMs } });
      else setStage({ kind: "uploading", sent: e.sent, total: e.total });
    };
    stager.run(emit, c.signal).then(
      (media) => current.current === stager && setStage({ kind: "ready", media }),
      (exc) => {
        if (exc instanceof DOMException && exc.name === "AbortError") return;
        if (current.current === stager) setStage(outcome(exc, stager));
      },
    );
  };

  useEffect(() => {
    if (!file || !enabled) {
      setStage({ kind: "idle" });
      return;
    }
    const stager = new Stager("video", file);
    current.current = stager;
    setStage({ kind: "uploading", sent: 0, total: file.size });
    go(stager);
    return () => {
      controller.current?.abort();
      current.current = null;
      if (!kept.current && stager.mediaId) discard(stager.mediaId);
    };
  }, [file, enabled]);

  // Back online after the upload stopped: it goes on by itself (the button stays for the user).
  useEffect(() => {
    if (stage.kind !== "paused") return;
    const online = () => current.current && go(current.current);
    window.addEventListener("online", online);
    return () => window.removeEventListener("online", online);
  }, [stage.kind]);

  return {
    stage,
    resume: () => current.current && go(current.current),
    restart: () => {
      const old = current.current;
      if (!old) return;
      if (old.mediaId) discard(old.mediaId);
      const stager = new Stager("video", old.file);
      current.current = stager;
      setStage({ kind: "uploading", sent: 0, total: old.file.size });
      go(stager);
    },
    keep: () => {
      kept.current = true;
    },
  };
}

/** Why the staged video keeps Post disabled, in words for the list next to the button. */
export function stagedBlockers(stage: VideoStage): string[] {
  switch (stage.kind) {
    case "ready":
      return [];
    case "refused":
      return ["Choose another video: TikTok cannot take this one."];
    case "paused":
      return ["The video's upload stopped: resume it."];
    case "failed":
      return ["The video's upload did not finish: start it again."];
    default:
      return ["Wait for the video to finish uploading."];
  }
}

function percentOf(sent: number, total: number): number {
  return total ? Math.floor((sent / total) * 100) : 0;
}

export function StagedVideoStatus({ video, file, duration }: { video: StagedVideo; file: File; duration: number | null }) {
  const { stage } = video;
  const announce =
    stage.kind === "uploading" ? (stage.retry ? "The connection was lost; trying again." : "Uploading the video.") : stage.kind === "checking" ? "Checking the video." : stage.kind === "ready" ? "The video is uploaded and checked." : "";
  return (
    <div class="staged-video" id="video-stage">
      <p class="visually-hidden" role="status" aria-live="polite">
        {announce}
      </p>
      {(stage.kind === "uploading" || stage.kind === "paused") && (
        <>
          <progress
            max={stage.total || 1}
            value={stage.sent}
            aria-label="Upload of the video"
            aria-valuetext={`${percentOf(stage.sent, stage.total)} % (${formatBytes(stage.sent)} of ${formatBytes(stage.total)})`}
          />
          <p class="hint progress-line">
            Uploading to this app: {percentOf(stage.sent, stage.total)} % of {formatBytes(stage.total)}
          </p>
        </>
      )}
      {stage.kind === "uploading" && stage.retry && (
        <p class="hint">
          The connection was lost. Trying again in {Math.ceil(stage.retry.waitMs / 1000)} s (attempt {stage.retry.attempt} of {stage.retry.of}); the upload goes on from{" "}
          {formatBytes(stage.sent)}.
        </p>
      )}
      {stage.kind === "checking" && <p class="hint">Checking the video…</p>}
      {stage.kind === "ready" && <p class="ok-text">Uploaded and checked: ready to post or schedule.</p>}
      {stage.kind === "refused" && (
        <div class="error" role="alert">
          <p class="error-message">{refusalText(stage.error, file, duration)}</p>
          <p class="error-reference">
            Reference for support: <code>{[stage.error.reason, stage.error.code, `HTTP ${stage.error.status}`].filter(Boolean).join(" · ")}</code>
          </p>
        </div>
      )}
      {stage.kind === "paused" && (
        <div class="error" role="alert">
          <p class="error-message">The connection was lost and the upload stopped at {percentOf(stage.sent, stage.total)} %. Check your connection, then resume it: it goes on from where it stopped.</p>
          <button type="button" onClick={video.resume}>
            Resume upload
          </button>
        </div>
      )}
      {stage.kind === "failed" && (
        <div class="error" role="alert">
          <p class="error-message">{stage.message}</p>
          <button type="button" onClick={video.restart}>
            Start the upload again
          </button>
        </div>
      )}
    </div>
  );
}
