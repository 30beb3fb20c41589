// Scheduled posts: every post waiting for its time (GET /api/posts?status=SCHEDULED), shown in the
// time zone it was scheduled in, with a new time or new settings (PATCH /api/publish/{id}; the
// settings against fresh creator info: schedule-settings.tsx) and a cancel (DELETE
// /api/publish/{id}, after a confirmation). Once sending has started the API answers 409, which is
// shown on the post.
import { useEffect, useMemo, useState } from "preact/hooks";
import { request } from "../api/client";
import type { HistoryPost, Post, PostsResponse } from "../api/types";
import { handle, useAccounts } from "../accounts";
import { STATUS_TEXT } from "../failures";
import { Link } from "../router";
import { browserZone, describe, toLocalInput, zones } from "../schedule";
import { scheduleOf, type When } from "../schedule-picker";
import { hasSettings, SettingsEditor } from "../schedule-settings";
import { ErrorMessage, Loading, PageTitle } from "../ui";

type Row = HistoryPost | Post;

function Editor({ post, onSaved, onClose }: { post: Row; onSaved: (post: Post) => void; onClose: () => void }) {
  const all = useMemo(zones, []);
  const zone = post.schedule_tz || browserZone();
  const [when, setWhen] = useState<When>({ later: true, local: post.schedule_at ? toLocalInput(post.schedule_at, zone) : "", zone, repeat: "earlier" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const result = scheduleOf(when);
  const id = `edit-${post.id}`;
  const save = async (event: Event) => {
    event.preventDefault();
    if (!result || "problem" in result) return;
    setBusy(true);
    setError(null);
    try {
      const { post: saved } = await request<{ post: Post }>(`/api/publish/${encodeURIComponent(post.id)}`, { method: "PATCH", body: result });
      onSaved(saved);
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="nested schedule-edit" onSubmit={save} noValidate aria-label={`New time for ${post.title || "the post"}`}>
      <div class="field">
        <label for={`${id}-at`}>New date and time</label>
        <input id={`${id}-at`} type="datetime-local" value={when.local} onInput={(e) => setWhen({ ...when, local: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <div class="field">
        <label for={`${id}-tz`}>Time zone</label>
        <select id={`${id}-tz`} value={when.zone} onChange={(e) => setWhen({ ...when, zone: (e.currentTarget as HTMLSelectElement).value })}>
          {all.map((z) => (
            <option key={z} value={z}>
              {z.replace(/_/g, " ")}
            </option>
          ))}
        </select>
      </div>
      {result && "problem" in result && <p class="field-error">{result.problem}</p>}
      <div class="actions">
        <button type="submit" class="button-primary" disabled={busy || !result || "problem" in result}>
          {busy ? "Saving…" : "Save the new time"}
        </button>
        <button type="button" onClick={onClose}>
          Keep the old time
        </button>
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

function ScheduledRow({ post, owner, onChange }: { post: Row; owner: string; onChange: (post: Post) => void }) {
  const [editing, setEditing] = useState(false);
  const [settings, setSettings] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const scheduled = post.status === "SCHEDULED";
  const name = post.title || (post.media_type === "photo" ? "Photo post" : "Video");
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      const { post: cancelled } = await request<{ post: Post }>(`/api/publish/${encodeURIComponent(post.id)}`, { method: "DELETE" });
      setConfirming(false);
      onChange(cancelled);
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="card post-row">
      <div>
        <p class="post-title">{name}</p>
        <p class="muted small">
          {owner} · {post.media_type === "photo" ? "Photos" : "Video"} · {post.mode === "inbox" ? "Inbox" : "Direct Post"}
        </p>
        {post.schedule_at && (
          <p>
            <time dateTime={post.schedule_at}>{describe(post.schedule_at, post.schedule_tz)}</time>
          </p>
        )}
      </div>
      <span class={`badge badge-status-${post.status.toLowerCase()}`}>{STATUS_TEXT[post.status]?.title ?? post.status}</span>
      <div class="actions">
        <Link href={`/posts/${encodeURIComponent(post.id)}`} aria-label={`Status of ${name}`}>
          Status
        </Link>
        {scheduled && !editing && (
          <button type="button" onClick={() => setEditing(true)} aria-label={`Change the time of ${name}`}>
            Change the time
          </button>
        )}
        {scheduled && !settings && hasSettings(post) && (
          <button type="button" onClick={() => setSettings(true)} aria-label={`Change the settings of ${name}`}>
            Change the settings
          </button>
        )}
        {scheduled && !confirming && (
          <button type="button" onClick={() => setConfirming(true)} aria-label={`Cancel ${name}`}>
            Cancel
          </button>
        )}
      </div>
      {scheduled && editing && <Editor post={post} onClose={() => setEditing(false)} onSaved={(p) => (setEditing(false), onChange(p))} />}
      {scheduled && settings && <SettingsEditor post={post} name={name} onClose={() => setSettings(false)} onSaved={(p) => (setSettings(false), onChange(p))} />}
      {scheduled && confirming && (
        <div class="nested" role="group" aria-label={`Cancel ${name}?`}>
          <p>Cancel this post? It will never be sent to TikTok.</p>
          <div class="actions">
            <button type="button" class="button-danger" onClick={cancel} disabled={busy}>
              {busy ? "Cancelling…" : "Yes, cancel the post"}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              No, keep it
            </button>
          </div>
        </div>
      )}
      {error !== null && <ErrorMessage error={error} />}
    </li>
  );
}

export function ScheduledPage() {
  const [accounts] = useAccounts();
  const [posts, setPosts] = useState<Row[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = async (from: string | null) => {
    try {
      const page = await request<PostsResponse>("/api/posts", { query: { status: "SCHEDULED", cursor: from } });
      setPosts((p) => [...(from ? p ?? [] : []), ...page.posts]);
      setCursor(page.next_cursor);
    } catch (exc) {
      setError(exc);
    }
  };
  useEffect(() => void load(null), []);

  const byId = new Map((accounts.kind === "ok" ? accounts.value : []).map((a) => [a.open_id, a]));
  const replace = (changed: Post) => setPosts((p) => (p ?? []).map((old) => (old.id === changed.id ? { ...old, ...changed } : old)));

  return (
    <section>
      <PageTitle>Scheduled posts</PageTitle>
      {error !== null && <ErrorMessage error={error} />}
      {posts === null && error === null && <Loading what="your scheduled posts" />}
      {posts !== null && posts.length === 0 && (
        <div class="card empty">
          <p>No post is waiting for its time.</p>
          <Link class="button button-primary" href="/post">
            Schedule a post
          </Link>
        </div>
      )}
      {posts !== null && posts.length > 0 && (
        <ol class="posts" aria-label="Scheduled posts">
          {posts.map((post) => {
            const owner = post.open_id ? byId.get(post.open_id) : undefined;
            return <ScheduledRow key={post.id} post={post} owner={owner ? handle(owner) : "Disconnected account"} onChange={replace} />;
          })}
        </ol>
      )}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Show more
        </button>
      )}
    </section>
  );
}
