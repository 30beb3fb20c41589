// Analytics of one account (/accounts/{open_id}/analytics): followers over time, its recent
// videos' views, likes, comments and shares day by day, the top videos by views, a range picker
// and the collection setting. Loaded as its own chunk (with uPlot) only when this page opens.
// Numbers are shown as the API gives them; video ids stay strings (they exceed 2^53).
import { useEffect, useMemo, useState } from "preact/hooks";
import { request } from "../api/client";
import type { AccountAnalytics, VideoAnalytics } from "../api/types";
import { handle, useAccounts } from "../accounts";
import { Chart, formatExact, type Line } from "../analytics/chart";
import { MAX_DAYS, PRESETS, rangeFrom, rangeQuery, type Range } from "../analytics/range";
import { AnalyticsSetting } from "../analytics/setting";
import { tiktokPostUrl } from "../failures";
import { Link, navigate, withQuery } from "../router";
import { ErrorMessage, Loading, PageTitle } from "../ui";

type Metric = "view_count" | "like_count" | "comment_count" | "share_count";
const METRICS: { key: Metric; label: string; color: string }[] = [
  { key: "view_count", label: "Views", color: "#0b57d0" },
  { key: "like_count", label: "Likes", color: "#b3261e" },
  { key: "comment_count", label: "Comments", color: "#1b6e3a" },
  { key: "share_count", label: "Shares", color: "#7a4b00" },
];
const TOP = 10;

/** Each day's total of a metric over the videos that day's snapshot holds (null: none has it). */
function totals(dates: string[], videos: VideoAnalytics[], key: Metric): (number | null)[] {
  const index = new Map(dates.map((d, i) => [d, i]));
  const sums: (number | null)[] = dates.map(() => null);
  for (const video of videos) {
    for (const point of video.series ?? []) {
      const i = index.get(point.date);
      const value = point[key];
      if (i === undefined || value === null || value === undefined) continue;
      sums[i] = (sums[i] ?? 0) + value;
    }
  }
  return sums;
}

function RangePicker({ range, onPick }: { range: Range; onPick: (range: Range) => void }) {
  const [custom, setCustom] = useState(range.kind === "custom");
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  useEffect(() => {
    setCustom(range.kind === "custom");
    setFrom(range.from);
    setTo(range.to);
  }, [range.kind, range.from, range.to]);
  const choose = (value: string) => {
    if (value === "custom") setCustom(true);
    else onPick(rangeFrom(new URLSearchParams({ days: value })));
  };
  return (
    <form
      class="filters range"
      aria-label="Dates to show"
      onSubmit={(e) => {
        e.preventDefault();
        onPick({ kind: "custom", from, to });
      }}
    >
      <div class="field">
        <label for="range-preset">Range</label>
        <select
          id="range-preset"
          value={custom ? "custom" : String(range.kind === "preset" ? range.days : "custom")}
          onChange={(e) => choose((e.currentTarget as HTMLSelectElement).value)}
        >
          {PRESETS.map((n) => (
            <option key={n} value={String(n)}>
              Last {n} days
            </option>
          ))}
          <option value="custom">Custom dates</option>
        </select>
      </div>
      {custom && (
        <>
          <div class="field">
            <label for="range-from">From</label>
            <input id="range-from" type="date" value={from} required onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="range-to">To</label>
            <input id="range-to" type="date" value={to} required onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="field field-button">
            <button type="submit">Show</button>
          </div>
        </>
      )}
      <p class="hint range-hint">UTC days, both included; at most {MAX_DAYS} days.</p>
    </form>
  );
}

function VideoChart({ video }: { video: VideoAnalytics }) {
  const series = video.series ?? [];
  const dates = useMemo(() => series.map((p) => p.date), [video]);
  const lines = useMemo<Line[]>(
    () => METRICS.map((m) => ({ label: m.label, color: m.color, values: series.map((p) => p[m.key] ?? null) })),
    [video],
  );
  return <Chart id={`chart-video-${video.id}`} title={`${video.title || `Video ${video.id}`}, day by day`} dates={dates} lines={lines} />;
}

function TopVideos({ videos, username }: { videos: VideoAnalytics[]; username: string | null | undefined }) {
  const [all, setAll] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const shown = all ? videos : videos.slice(0, TOP);
  const charted = videos.find((v) => v.id === open);
  return (
    <section class="card" aria-labelledby="top-videos-title">
      <h2 id="top-videos-title">Top videos</h2>
      {videos.length === 0 ? (
        <p>No video metrics in this range.</p>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <caption>Videos by views, most first: the latest values in the range</caption>
              <thead>
                <tr>
                  <th scope="col">Video</th>
                  {METRICS.map((m) => (
                    <th key={m.key} scope="col">
                      {m.label}
                    </th>
                  ))}
                  <th scope="col">As of</th>
                  <th scope="col">Chart</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((video) => (
                  <tr key={video.id} data-video-id={video.id}>
                    <th scope="row">
                      <a href={tiktokPostUrl(username, video.id, "video")} target="_blank" rel="noopener noreferrer">
                        {video.title || `Video ${video.id}`}
                      </a>
                    </th>
                    {METRICS.map((m) => (
                      <td key={m.key}>{formatExact(video.latest[m.key])}</td>
                    ))}
                    <td>
                      <time dateTime={video.latest_date}>{video.latest_date}</time>
                    </td>
                    <td>
                      <button
                        type="button"
                        class="button-quiet"
                        aria-expanded={open === video.id}
                        aria-controls="video-chart"
                        aria-label={`${open === video.id ? "Hide" : "Show"} the daily chart of ${video.title || `video ${video.id}`}`}
                        onClick={() => setOpen((id) => (id === video.id ? null : video.id))}
                      >
                        {open === video.id ? "Hide" : "Show"}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div id="video-chart">{charted && <VideoChart key={charted.id} video={charted} />}</div>
          {videos.length > TOP && (
            <button type="button" onClick={() => setAll((a) => !a)} aria-expanded={all}>
              {all ? `Show the top ${TOP} only` : `Show all ${videos.length} videos`}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function Charts({ data }: { data: AccountAnalytics }) {
  const dates = useMemo(() => data.account.map((p) => p.date), [data]);
  const followers = useMemo<Line[]>(
    () => [{ label: "Followers", color: "#0b57d0", values: data.account.map((p) => p.follower_count ?? null) }],
    [data],
  );
  const engagement = useMemo(
    () => METRICS.map((m) => ({ ...m, lines: [{ label: m.label, color: m.color, values: totals(dates, data.videos, m.key) }] })),
    [data, dates],
  );
  if (dates.length === 0) {
    return (
      <div class="card empty">
        <p>No snapshot in this range.</p>
        <p class="muted">The first one is taken when an account is connected, then one every day.</p>
      </div>
    );
  }
  return (
    <>
      <Chart id="chart-followers" title="Followers" dates={dates} lines={followers} />
      <h2>Views, likes, comments and shares per day</h2>
      <p class="hint">Each day's totals over the recent videos that day's snapshot holds.</p>
      <div class="chart-grid">
        {engagement.map((m) => (
          <Chart key={m.key} id={`chart-${m.key}`} title={`${m.label} per day`} dates={dates} lines={m.lines} height={160} />
        ))}
      </div>
    </>
  );
}

export function AnalyticsPage({ openId, query }: { openId: string; query: URLSearchParams }) {
  const [accounts] = useAccounts();
  const account = accounts.kind === "ok" ? accounts.value.find((a) => a.open_id === openId) : undefined;
  const name = account ? handle(account) : "this account";
  const range = rangeFrom(query);
  const [data, setData] = useState<AccountAnalytics | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    setError(null);
    request<AccountAnalytics>(`/api/tiktok/accounts/${encodeURIComponent(openId)}/analytics`, {
      query: { from: range.from, to: range.to },
    }).then(
      (body) => live && setData(body),
      (exc) => {
        if (!live) return;
        setError(exc);
        setData(null);
      },
    );
    return () => {
      live = false;
    };
  }, [openId, range.from, range.to, version]);

  const pick = (next: Range) =>
    navigate(withQuery(`/accounts/${encodeURIComponent(openId)}/analytics`, rangeQuery(next)));

  return (
    <section class="analytics">
      <div class="page-head">
        <PageTitle>Analytics for {name}</PageTitle>
        <Link href="/accounts">Back to your accounts</Link>
      </div>
      <RangePicker range={range} onPick={pick} />
      {error !== null && <ErrorMessage error={error} />}
      {data === null && error === null && <Loading what="the analytics" />}
      {data !== null && (
        <>
          <p class="muted" role="status">
            {data.account.length} daily snapshot{data.account.length === 1 ? "" : "s"} from{" "}
            <time dateTime={data.from}>{data.from}</time> to <time dateTime={data.to}>{data.to}</time> (UTC).
          </p>
          <AnalyticsSetting
            openId={openId}
            name={name}
            enabled={data.analytics_enabled}
            reason={data.analytics_reason}
            onChanged={() => setVersion((v) => v + 1)}
          />
          <Charts data={data} />
          <TopVideos videos={data.videos} username={account?.username} />
        </>
      )}
    </section>
  );
}
