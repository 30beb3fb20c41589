// History: every post, newest first, paged; filtered by account and status on the server
// (GET /api/posts?open_id=&status=), with the filters in the URL. A published post links to its
// video on TikTok and shows its current metrics (from the account's newest daily snapshot).
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import type { HistoryPost, PostMetrics, PostsResponse } from "../api/types";
import { handle, useAccounts } from "../accounts";
import { STATUS_TEXT, STATUSES, tiktokPostUrl } from "../failures";
import { Link, navigate, withQuery } from "../router";
import { describe } from "../schedule";
import { ErrorMessage, Loading, PageTitle } from "../ui";

const exact = new Intl.NumberFormat(undefined);

function Metrics({ metrics }: { metrics: PostMetrics }) {
  const items: [string, number | null | undefined][] = [
    ["Views", metrics.view_count],
    ["Likes", metrics.like_count],
    ["Comments", metrics.comment_count],
    ["Shares", metrics.share_count],
  ];
  return (
    <div class="post-metrics">
      <dl class="stats" aria-label={`Metrics of video ${metrics.id} on ${metrics.date}`}>
        {items.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value === null || value === undefined ? "–" : exact.format(value)}</dd>
          </div>
        ))}
      </dl>
      <p class="muted small">
        As of <time dateTime={metrics.date}>{metrics.date}</time> (UTC)
      </p>
    </div>
  );
}

export function HistoryPage({ query }: { query: URLSearchParams }) {
  const account = query.get("account") ?? "";
  const status = query.get("status") ?? "";
  const [accounts] = useAccounts();
  const [posts, setPosts] = useState<HistoryPost[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const load = async (from: string | null) => {
    const page = await request<PostsResponse>("/api/posts", {
      query: { open_id: account || null, status: status || null, cursor: from },
    });
    return page;
  };

  useEffect(() => {
    let live = true;
    setPosts(null);
    setError(null);
    load(null).then(
      (page) => {
        if (!live) return;
        setPosts(page.posts);
        setCursor(page.next_cursor);
      },
      (exc) => live && setError(exc),
    );
    return () => {
      live = false;
    };
  }, [account, status]);

  const more = async () => {
    setLoadingMore(true);
    try {
      const page = await load(cursor);
      setPosts((p) => [...(p ?? []), ...page.posts]);
      setCursor(page.next_cursor);
    } catch (exc) {
      setError(exc);
    } finally {
      setLoadingMore(false);
    }
  };

  const filter = (name: "account" | "status", value: string) =>
    navigate(withQuery("/history", { account, status, [name]: value }));
  const list = accounts.kind === "ok" ? accounts.value : [];
  const byId = new Map(list.map((a) => [a.open_id, a]));

  return (
    <section>
      <PageTitle>Post history</PageTitle>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="filter-account">Account</label>
          <select id="filter-account" value={account} onChange={(e) => filter("account", (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">All accounts</option>
            {list.map((a) => (
              <option key={a.open_id} value={a.open_id}>
                {handle(a)}
              </option>
            ))}
            {account && !byId.has(account) && <option value={account}>A disconnected account</option>}
          </select>
        </div>
        <div class="field">
          <label for="filter-status">Status</label>
          <select id="filter-status" value={status} onChange={(e) => filter("status", (e.currentTarget as HTMLSelectElement).value)}>
            <option value="">All statuses</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_TEXT[s]?.title ?? s}
              </option>
            ))}
          </select>
        </div>
      </form>
      {error !== null && <ErrorMessage error={error} />}
      {posts === null && error === null && <Loading what="your posts" />}
      {posts !== null && posts.length === 0 && (
        <div class="card empty">
          <p>{account || status ? "No post matches these filters." : "You have not posted anything yet."}</p>
          <Link class="button button-primary" href="/post">
            Post to TikTok
          </Link>
        </div>
      )}
      {posts !== null && posts.length > 0 && (
        <ol class="posts" aria-label="Posts, newest first">
          {posts.map((post) => {
            const owner = post.open_id ? byId.get(post.open_id) : undefined;
            return (
              <li key={post.id} class="card post-row">
                <div>
                  <p class="post-title">{post.title || (post.media_type === "photo" ? "Photo post" : "Video")}</p>
                  <p class="muted small">
                    {owner ? handle(owner) : "Disconnected account"} · {post.media_type === "photo" ? "Photos" : "Video"} ·{" "}
                    {post.mode === "inbox" ? "Inbox" : "Direct Post"}
                    {post.created_at && <> · <time dateTime={post.created_at}>{new Date(post.created_at).toLocaleString()}</time></>}
                  </p>
                  {post.schedule_at && (post.status === "SCHEDULED" || post.status === "CANCELLED") && (
                    <p class="small">
                      {post.status === "SCHEDULED" ? "Scheduled for" : "Was scheduled for"} <time dateTime={post.schedule_at}>{describe(post.schedule_at, post.schedule_tz)}</time>
                    </p>
                  )}
                </div>
                <span class={`badge badge-status-${post.status.toLowerCase()}`}>{STATUS_TEXT[post.status]?.title ?? post.status}</span>
                {post.status === "PUBLISH_COMPLETE" && post.metrics.map((m) => <Metrics key={m.id} metrics={m} />)}
                <div class="actions">
                  <Link href={`/posts/${encodeURIComponent(post.id)}`} aria-label={`Status of ${post.title || "post"} (${post.id})`}>
                    Status
                  </Link>
                  {post.status === "PUBLISH_COMPLETE" &&
                    (post.post_ids ?? []).map((id) => (
                      <a key={id} href={tiktokPostUrl(owner?.username, id, post.media_type)} target="_blank" rel="noopener noreferrer">
                        View on TikTok
                      </a>
                    ))}
                </div>
              </li>
            );
          })}
        </ol>
      )}
      {cursor && (
        <button type="button" onClick={more} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "Show older posts"}
        </button>
      )}
    </section>
  );
}
