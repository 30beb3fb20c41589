// Videos: the account's public TikTok videos (cover, title, counts), paged.
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import type { Video, VideosResponse } from "../api/types";
import { handle, useAccounts } from "../accounts";
import { navigate } from "../router";
import { ErrorMessage, formatCount, Loading, PageTitle } from "../ui";

export function VideosPage({ query }: { query: URLSearchParams }) {
  const [accounts] = useAccounts();
  const list = accounts.kind === "ok" ? accounts.value : [];
  const account = list.find((a) => a.open_id === query.get("account")) ?? list[0];
  const [videos, setVideos] = useState<Video[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = (openId: string, from: string | null) =>
    request<VideosResponse>(`/api/tiktok/accounts/${encodeURIComponent(openId)}/videos`, { query: { cursor: from } });

  useEffect(() => {
    if (!account) return;
    let live = true;
    setVideos(null);
    setError(null);
    load(account.open_id, null).then(
      (page) => {
        if (!live) return;
        setVideos(page.videos);
        setCursor(page.has_more ? page.next_cursor : null);
      },
      (exc) => live && setError(exc),
    );
    return () => {
      live = false;
    };
  }, [account?.open_id]);

  const more = async () => {
    if (!account) return;
    setBusy(true);
    try {
      const page = await load(account.open_id, cursor);
      setVideos((v) => [...(v ?? []), ...page.videos]);
      setCursor(page.has_more ? page.next_cursor : null);
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <PageTitle>Videos</PageTitle>
      {accounts.kind === "loading" && <Loading what="your accounts" />}
      {accounts.kind === "error" && <ErrorMessage error={accounts.error} />}
      {accounts.kind === "ok" && !account && <p>Connect a TikTok account to see its videos.</p>}
      {account && list.length > 1 && (
        <div class="field account-picker">
          <label for="videos-account">Account</label>
          <select id="videos-account" value={account.open_id} onChange={(e) => navigate(`/videos?account=${encodeURIComponent((e.currentTarget as HTMLSelectElement).value)}`)}>
            {list.map((a) => (
              <option key={a.open_id} value={a.open_id}>
                {handle(a)}
              </option>
            ))}
          </select>
        </div>
      )}
      {account && <p class="muted">Public videos of {handle(account)}, newest first.</p>}
      {error !== null && <ErrorMessage error={error} />}
      {account && videos === null && error === null && <Loading what="the videos" />}
      {videos !== null && videos.length === 0 && <p class="card empty">No public videos yet.</p>}
      {videos !== null && videos.length > 0 && (
        <ul class="videos">
          {videos.map((video) => (
            <li key={video.id} class="card video">
              <div class="cover">
                {video.cover_image_url ? <img src={video.cover_image_url} alt="" loading="lazy" referrerpolicy="no-referrer" onError={(e) => ((e.currentTarget as HTMLImageElement).style.visibility = "hidden")} /> : null}
              </div>
              <p class="video-title">{video.title || video.video_description || "Untitled video"}</p>
              <dl class="counts">
                <div><dt>Views</dt><dd>{formatCount(video.view_count)}</dd></div>
                <div><dt>Likes</dt><dd>{formatCount(video.like_count)}</dd></div>
                <div><dt>Comments</dt><dd>{formatCount(video.comment_count)}</dd></div>
                <div><dt>Shares</dt><dd>{formatCount(video.share_count)}</dd></div>
              </dl>
              {video.share_url && (
                <a href={video.share_url} target="_blank" rel="noopener noreferrer">
                  Open on TikTok<span class="visually-hidden">: {video.title || video.id}</span>
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={more} disabled={busy}>
          {busy ? "Loading…" : "Show more videos"}
        </button>
      )}
    </section>
  );
}
