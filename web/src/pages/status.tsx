// Status: the post's status from the poll route until it is final, with TikTok's failure reason
// in plain words and what to do about it.
import { useEffect, useRef, useState } from "preact/hooks";
import { request } from "../api/client";
import type { StatusPost, StatusResponse } from "../api/types";
import { useAccounts, handle } from "../accounts";
import { failure, STATUS_TEXT, tiktokPostUrl } from "../failures";
import { TEXT } from "../guidelines";
import { Link } from "../router";
import { describe } from "../schedule";
import { ErrorMessage, formatBytes, Loading, PageTitle } from "../ui";

export function StatusPage({ postId }: { postId: string }) {
  const [post, setPost] = useState<StatusPost | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [accounts] = useAccounts();
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    let live = true;
    let delay = 1500;
    const poll = async () => {
      try {
        const { post: fresh } = await request<StatusResponse>(`/api/publish/${encodeURIComponent(postId)}/status`);
        if (!live) return;
        setPost(fresh);
        setError(null);
        const unfinishedUpload = fresh.upload && !fresh.upload_complete && fresh.status !== "FAILED";
        if (fresh.final || unfinishedUpload) return;
        delay = Math.min(delay * 1.5, 10000);
        const wait = fresh.retry_after ? Math.max(fresh.retry_after * 1000, delay) : delay;
        timer.current = window.setTimeout(poll, wait);
      } catch (exc) {
        if (!live) return;
        setError(exc);
        timer.current = window.setTimeout(poll, 10000);
      }
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer.current);
    };
  }, [postId]);

  const account = accounts.kind === "ok" && post ? accounts.value.find((a) => a.open_id === post.open_id) : undefined;
  const text = post ? STATUS_TEXT[post.status] ?? { title: post.status, detail: "" } : null;
  const unfinishedUpload = post?.upload && !post.upload_complete && post.status !== "FAILED";
  const why = post?.status === "FAILED" ? failure(post.fail_reason) : null;

  return (
    <section class="card status-page">
      <PageTitle>Post status</PageTitle>
      {!post && !error && <Loading what="the post's status" />}
      {error !== null && <ErrorMessage error={error} focus={!post} />}
      {post && text && (
        <>
          <div class={`status status-${post.status.toLowerCase()}`} role="status" aria-live="polite">
            <p class="status-title">{text.title}</p>
            <p>{unfinishedUpload ? "The upload has not finished." : text.detail}</p>
            {post.schedule_at && (post.status === "SCHEDULED" || post.status === "CANCELLED") && (
              <p class="schedule-time">
                {post.status === "SCHEDULED" ? "Scheduled for" : "Was scheduled for"} {describe(post.schedule_at, post.schedule_tz)}
              </p>
            )}
          </div>
          {!post.final && !unfinishedUpload && (
            <p class="notice">
              <span class="spinner" aria-hidden="true" /> {TEXT.processingNotice} This page updates by itself.
            </p>
          )}
          {unfinishedUpload && (
            <p>
              <Link class="button button-primary" href={`/posts/${encodeURIComponent(post.id)}/upload`}>
                Continue the upload
              </Link>
            </p>
          )}
          {why && (
            <div class="error" role="alert">
              <p class="error-message">{why.what}</p>
              <p>{why.todo}</p>
              {post.fail_reason && (
                <p class="error-reference">
                  Reference for support: <code>{post.fail_reason}</code>
                  {post.publish_id && (
                    <>
                      {" "}· <code>{post.publish_id}</code>
                    </>
                  )}
                </p>
              )}
            </div>
          )}
          {post.status === "PUBLISH_COMPLETE" && (post.post_ids ?? []).length === 0 && (
            <p class="hint">
              {post.privacy_level === "SELF_ONLY"
                ? "It is visible only to you, so TikTok gives no public link."
                : "TikTok gives the link once the post passes its review; this usually takes less than a minute."}
            </p>
          )}
          {(post.post_ids ?? []).length > 0 && (
            <ul class="links">
              {(post.post_ids ?? []).map((id) => (
                <li key={id}>
                  <a href={tiktokPostUrl(account?.username, id, post.media_type)} target="_blank" rel="noopener noreferrer">
                    View on TikTok{account ? ` (${handle(account)})` : ""}
                  </a>
                </li>
              ))}
            </ul>
          )}
          <dl class="details">
            {account && (
              <div>
                <dt>Account</dt>
                <dd>{handle(account)}</dd>
              </div>
            )}
            {post.title && (
              <div>
                <dt>Title</dt>
                <dd>{post.title}</dd>
              </div>
            )}
            <div>
              <dt>Type</dt>
              <dd>
                {post.media_type === "photo" ? "Photos" : "Video"} · {post.mode === "inbox" ? "sent to inbox" : "Direct Post"}
              </dd>
            </div>
            {post.total_bytes ? (
              <div>
                <dt>Uploaded</dt>
                <dd>
                  {formatBytes(post.uploaded_bytes ?? 0)} of {formatBytes(post.total_bytes)}
                </dd>
              </div>
            ) : null}
            {post.created_at && (
              <div>
                <dt>Created</dt>
                <dd>{new Date(post.created_at).toLocaleString()}</dd>
              </div>
            )}
          </dl>
          <p class="actions">
            <Link class="button" href="/history">
              All posts
            </Link>
            {post.status === "SCHEDULED" && (
              <Link class="button" href="/scheduled">
                Scheduled posts
              </Link>
            )}
            <Link class="button" href={`/post${post.open_id ? `?account=${encodeURIComponent(post.open_id)}` : ""}`}>
              New post
            </Link>
          </p>
        </>
      )}
    </section>
  );
}
