// "Post to TikTok", following TikTok's Content Sharing Guidelines point by point: fresh creator
// info on every render of the page, the creator's nickname and avatar, privacy chosen by the user
// from TikTok's options only (no default), interactions off by default and disabled where the
// creator turned them off, commercial content disclosure, the consent line, the duration check,
// a preview, and nothing sent to TikTok before the user presses Post. A video from the device goes
// straight to TikTok through the chunk relay when Post is pressed, or is staged first (uploaded to
// the bucket while the user fills in the form; web/src/staged-video.tsx), which is how it can be
// scheduled.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import type { Account, CreatorInfo, PrivacyLevel, PublishRequest, PublishResponse, ScheduledPublishRequest } from "../api/types";
import { connectUrl, handle, useAccounts, useCreatorInfo } from "../accounts";
import {
  CANNOT_POST,
  commercialLabel,
  consentKind,
  DESCRIPTION_MAX,
  directSettings,
  durationProblem,
  formatDuration,
  LINKS,
  type MediaKind,
  PRIVACY_LABELS,
  TEXT,
  TITLE_MAX,
  utf16Length,
} from "../guidelines";
import { readVideoDuration } from "../media";
import { PhotoFiles, type PhotoSelection } from "../photo-files";
import { Link, navigate } from "../router";
import { DEVICE_VIDEO_NOTE, isScheduleError, NOW, scheduleOf, SchedulePicker, type When } from "../schedule-picker";
import { stagedBlockers, StagedVideoStatus, useStagedVideo } from "../staged-video";
import { remember } from "../uploads";
import { Avatar, Check, ErrorMessage, Loading, PageTitle } from "../ui";

type Mode = "direct" | "inbox";
type Source = "file" | "url";
/** How a video from the device reaches TikTok: the chunk relay when Post is pressed, or staged first. */
type Transfer = "relay" | "stage";

function CannotPost({ error, account }: { error: unknown; account: Account }) {
  const reason = error instanceof ApiError ? error.reason : undefined;
  const known = reason ? CANNOT_POST[reason] : undefined;
  const reconnect = error instanceof ApiError && (error.status === 401 || reason === "tiktok.access_token_invalid");
  return (
    <ErrorMessage error={known ? new Error(`${handle(account)} can't post right now. ${known}`) : error}>
      {known && reason && (
        <p class="error-reference">
          TikTok's reason: <code>{reason}</code>
        </p>
      )}
      {reconnect && (
        <p>
          <a href={connectUrl("/post")}>Reconnect {handle(account)}</a>
        </p>
      )}
      {!known && !reconnect && <p>Reload the page to ask TikTok again.</p>}
    </ErrorMessage>
  );
}

function Radio({ name, value, checked, onChange, label, hint, disabled }: {
  name: string;
  value: string;
  checked: boolean;
  onChange: () => void;
  label: string;
  hint?: string;
  disabled?: boolean;
}) {
  const id = `${name}-${value}`;
  return (
    <div class={`choice${disabled ? " is-disabled" : ""}`}>
      <input type="radio" id={id} name={name} value={value} checked={checked} disabled={disabled} onChange={onChange} aria-describedby={hint ? `${id}-hint` : undefined} />
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

function Composer({ account, creator }: { account: Account; creator: CreatorInfo }) {
  const [mode, setMode] = useState<Mode>("direct");
  const [kind, setKind] = useState<MediaKind>("video");
  const [source, setSource] = useState<Source>("file");
  const [transfer, setTransfer] = useState<Transfer>("relay");
  const [file, setFile] = useState<File | null>(null);
  const [fileUrl, setFileUrl] = useState<string | null>(null);
  const [videoUrl, setVideoUrl] = useState("");
  const [checkedUrl, setCheckedUrl] = useState<string | null>(null);
  const [photoText, setPhotoText] = useState("");
  const [photoSource, setPhotoSource] = useState<Source>("file");
  const [staged, setStaged] = useState<PhotoSelection>({ mediaIds: [], coverIndex: 0, blockers: [] });
  const [cover, setCover] = useState(0);
  const [duration, setDuration] = useState<number | null>(null);
  const [durationError, setDurationError] = useState<string | null>(null);
  const [reading, setReading] = useState(false);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [privacy, setPrivacy] = useState<PrivacyLevel | "">("");
  const [allowComment, setAllowComment] = useState(false);
  const [allowDuet, setAllowDuet] = useState(false);
  const [allowStitch, setAllowStitch] = useState(false);
  const [disclose, setDisclose] = useState(false);
  const [yourBrand, setYourBrand] = useState(false);
  const [branded, setBranded] = useState(false);
  const [aigc, setAigc] = useState(false);
  const [when, setWhen] = useState<When>(NOW);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const idempotencyKey = useMemo(() => crypto.randomUUID(), [account.open_id]);

  const direct = mode === "direct";
  const photos = photoText
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);

  useEffect(() => () => void (fileUrl && URL.revokeObjectURL(fileUrl)), [fileUrl]);

  const measure = async (src: string) => {
    setReading(true);
    setDuration(null);
    setDurationError(null);
    try {
      setDuration(await readVideoDuration(src));
    } catch (exc) {
      setDurationError((exc as Error).message);
    } finally {
      setReading(false);
    }
  };

  const chooseFile = (chosen: File | null) => {
    if (fileUrl) URL.revokeObjectURL(fileUrl);
    setFile(chosen);
    setDuration(null);
    setDurationError(null);
    if (!chosen) {
      setFileUrl(null);
      return;
    }
    const objectUrl = URL.createObjectURL(chosen);
    setFileUrl(objectUrl);
    void measure(objectUrl);
  };

  const checkUrl = () => {
    const value = videoUrl.trim();
    if (!value) return;
    setCheckedUrl(value);
    void measure(value);
  };

  const tooLong = kind === "video" ? durationProblem(duration, creator) : null;
  // A device video is staged when the user asks, and always when it is scheduled (the relay
  // uploads while the user waits, so it cannot wait for a time). It starts once the browser has
  // checked its length: nothing too long for the creator is uploaded.
  const deviceVideo = kind === "video" && source === "file";
  const staging = deviceVideo && (transfer === "stage" || when.later);
  const stageable = staging && file !== null && duration !== null && !tooLong && !durationError;
  const video = useStagedVideo(stageable ? file : null, stageable);
  const titleMax = TITLE_MAX[kind];
  const label = disclose ? commercialLabel(kind, yourBrand, branded) : null;
  const consent = consentKind(disclose, branded);

  // Everything that keeps Post disabled, each said in words next to the button.
  const blockers: string[] = [];
  if (kind === "video" && source === "file" && !file) blockers.push("Choose a video file.");
  if (kind === "video" && source === "url" && !checkedUrl) blockers.push("Enter the video's URL and check it.");
  if (kind === "video" && reading) blockers.push("Checking the video's length…");
  if (kind === "video" && durationError) blockers.push(durationError);
  if (tooLong) blockers.push(tooLong);
  if (stageable) blockers.push(...stagedBlockers(video.stage));
  const photoFiles = kind === "photo" && photoSource === "file";
  if (photoFiles) blockers.push(...staged.blockers);
  if (kind === "photo" && !photoFiles && photos.length === 0) blockers.push("Add at least one photo URL.");
  if (kind === "photo" && !photoFiles && photos.length > 35) blockers.push("A photo post has at most 35 photos.");
  if (utf16Length(title) > titleMax) blockers.push(`The title is longer than ${titleMax} characters.`);
  if (direct && !privacy) blockers.push("Choose who can see this post.");
  if (direct && disclose && !yourBrand && !branded) blockers.push(TEXT.disclosureIncomplete);
  const schedule = scheduleOf(when);
  if (schedule && "problem" in schedule) blockers.push(schedule.problem);
  const ready = blockers.length === 0 && !busy;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    const post: NonNullable<PublishRequest["post"]> = {};
    if (direct || kind === "photo") post.title = title;
    if (kind === "photo" && description) post.description = description;
    if (direct) {
      const chosen = { privacy, allowComment, allowDuet, allowStitch, disclose, yourBrand, branded, aigc };
      Object.assign(post, directSettings(kind, chosen, creator));
    }
    const media: PublishRequest["media"] =
      photoFiles
        ? { type: "photo", media_ids: staged.mediaIds, cover_index: staged.coverIndex }
        : kind === "photo"
          ? { type: "photo", urls: photos, cover_index: Math.min(cover, photos.length - 1) }
          : staging && video.stage.kind === "ready"
            ? { type: "video", source: "staged", media_id: video.stage.media.id }
            : source === "file"
            ? { type: "video", source: "file", size: file!.size }
            : { type: "video", source: "url", url: checkedUrl! };
    const body: PublishRequest = { open_id: account.open_id, mode, media, post };
    if (schedule && !("problem" in schedule)) Object.assign(body as Partial<ScheduledPublishRequest>, schedule);
    if (kind === "video" && duration !== null) body.duration_sec = Math.round(duration * 1000) / 1000;
    try {
      const { post: created } = await request<PublishResponse>("/api/publish", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": idempotencyKey },
      });
      if (staging) video.keep();
      if (created.upload && file) {
        remember(created.id, file);
        navigate(`/posts/${encodeURIComponent(created.id)}/upload`);
      } else {
        navigate(`/posts/${encodeURIComponent(created.id)}`);
      }
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };

  const options = creator.privacy_level_options as PrivacyLevel[];
  return (
    <form class="composer" onSubmit={submit} noValidate>
      <div class="creator card">
        <Avatar url={creator.creator_avatar_url} name={creator.creator_nickname} size={56} />
        <div>
          <p class="muted">Posting to</p>
          <p class="creator-name">{creator.creator_nickname}</p>
          <p class="muted">@{creator.creator_username}</p>
        </div>
      </div>

      <fieldset>
        <legend>How to send it</legend>
        <Radio name="mode" value="direct" checked={direct} onChange={() => setMode("direct")} label="Post now (Direct Post)" hint="TikTok publishes it to your profile with the settings below." />
        <Radio name="mode" value="inbox" checked={!direct} onChange={() => setMode("inbox")} label="Send to my TikTok inbox as a draft" hint="TikTok sends you a notification; you add the caption, choose who can see it and post it in the TikTok app." />
      </fieldset>

      <fieldset>
        <legend>What to post</legend>
        <Radio name="kind" value="video" checked={kind === "video"} onChange={() => setKind("video")} label="Video" />
        <Radio name="kind" value="photo" checked={kind === "photo"} onChange={() => setKind("photo")} label="Photos" />
      </fieldset>

      {kind === "video" && (
        <fieldset>
          <legend>Video</legend>
          <Radio name="source" value="file" checked={source === "file"} onChange={() => setSource("file")} label="A file from this device" />
          <Radio name="source" value="url" checked={source === "url"} onChange={() => setSource("url")} label="A URL on your verified domain" />
          {source === "file" ? (
            <div class="field">
              <label for="video-file">Video file</label>
              <input
                id="video-file"
                type="file"
                accept="video/mp4,video/quicktime,video/webm"
                aria-describedby="video-file-hint video-duration"
                onChange={(e) => chooseFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
              />
              <p class="hint" id="video-file-hint">
                MP4, WebM or MOV. {creator.creator_nickname} can post videos of up to {formatDuration(creator.max_video_post_duration_sec)}.
              </p>
              <fieldset class="nested transfer">
                <legend>Sending the video</legend>
                <Radio
                  name="transfer"
                  value="relay"
                  checked={!staging}
                  disabled={when.later}
                  onChange={() => setTransfer("relay")}
                  label="Straight to TikTok when you press Post"
                  hint={when.later ? "Not when scheduling: this way the video is uploaded to TikTok while you wait." : "Uploaded to TikTok while you wait, in pieces; any size up to 4 GB."}
                />
                <Radio
                  name="transfer"
                  value="stage"
                  checked={staging}
                  onChange={() => setTransfer("stage")}
                  label="Upload it here first"
                  hint="Uploaded to this app now, while you fill in the rest, and checked; TikTok fetches it from here when the post goes out. This is how a video from this device is scheduled. Best for videos under 30 MB."
                />
              </fieldset>
              {stageable && file && <StagedVideoStatus video={video} file={file} duration={duration} />}
            </div>
          ) : (
            <div class="field">
              <label for="video-url">Video URL</label>
              <div class="inline">
                <input id="video-url" type="url" inputMode="url" value={videoUrl} aria-describedby="video-url-hint video-duration" onInput={(e) => {
                  setVideoUrl((e.currentTarget as HTMLInputElement).value);
                  setCheckedUrl(null);
                  setDuration(null);
                  setDurationError(null);
                }} />
                <button type="button" onClick={checkUrl} disabled={!videoUrl.trim()}>
                  Check video
                </button>
              </div>
              <p class="hint" id="video-url-hint">
                TikTok downloads it from this address, which must be on a domain verified for this app.
              </p>
            </div>
          )}
          <p id="video-duration" class={tooLong || durationError ? "field-error" : "hint"} role={tooLong || durationError ? "alert" : "status"}>
            {reading ? "Checking the video's length…" : durationError || tooLong || (duration !== null ? `Length: ${formatDuration(duration)}.` : "")}
          </p>
        </fieldset>
      )}

      {kind === "photo" && (
        <fieldset>
          <legend>Photos</legend>
          <Radio name="photo-source" value="file" checked={photoFiles} onChange={() => setPhotoSource("file")} label="Files from this device" />
          <Radio name="photo-source" value="url" checked={!photoFiles} onChange={() => setPhotoSource("url")} label="URLs on your verified domain" />
          {photoFiles ? (
            <PhotoFiles onChange={setStaged} />
          ) : (
          <>
          <div class="field">
            <label for="photo-urls">Photo URLs, one per line</label>
            <textarea id="photo-urls" rows={3} value={photoText} aria-describedby="photo-urls-hint" onInput={(e) => setPhotoText((e.currentTarget as HTMLTextAreaElement).value)} />
            <p class="hint" id="photo-urls-hint">
              JPEG or WebP, up to 35 photos, on a domain verified for this app.
            </p>
          </div>
          {photos.length > 1 && (
            <div class="field">
              <label for="photo-cover">Cover photo</label>
              <select id="photo-cover" value={String(cover)} onChange={(e) => setCover(Number((e.currentTarget as HTMLSelectElement).value))}>
                {photos.map((_, i) => (
                  <option key={i} value={String(i)}>
                    Photo {i + 1}
                  </option>
                ))}
              </select>
            </div>
          )}
          </>
          )}
        </fieldset>
      )}

      <section class="preview" aria-labelledby="preview-title">
        <h2 id="preview-title">Preview</h2>
        {kind === "video" && source === "file" && fileUrl && <video src={fileUrl} controls muted playsInline aria-label="Preview of the chosen video" />}
        {kind === "video" && source === "url" && checkedUrl && <video src={checkedUrl} controls muted playsInline aria-label="Preview of the video at the URL" />}
        {kind === "photo" && !photoFiles && photos.length > 0 && (
          <ul class="photos">
            {photos.slice(0, 35).map((src, i) => (
              <li key={src + i}>
                <img src={src} alt={`Photo ${i + 1}${i === cover ? " (cover)" : ""}`} />
              </li>
            ))}
          </ul>
        )}
        {kind === "photo" && photoFiles && staged.mediaIds.length > 0 && (
          <p class="muted">
            {staged.mediaIds.length === 1 ? "1 photo" : `${staged.mediaIds.length} photos`}, sent in the order shown under Photos, with the cover you chose.
          </p>
        )}
        {((kind === "video" && !(fileUrl || checkedUrl)) || (kind === "photo" && !photoFiles && photos.length === 0)) && (
          <p class="muted">Your {kind === "photo" ? "photos" : "video"} will show here, exactly as they will be sent.</p>
        )}
        {(direct || kind === "photo") && title && <p class="preview-title">{title}</p>}
      </section>

      {(direct || kind === "photo") && (
        <fieldset>
          <legend>Details</legend>
          <div class="field">
            <label for="title">Title</label>
            <textarea id="title" rows={kind === "photo" ? 2 : 3} value={title} aria-describedby="title-count" onInput={(e) => setTitle((e.currentTarget as HTMLTextAreaElement).value)} />
            <p id="title-count" class={utf16Length(title) > titleMax ? "field-error" : "hint"}>
              {utf16Length(title)} / {titleMax} characters. #hashtags and @mentions work as in TikTok.
            </p>
          </div>
          {kind === "photo" && (
            <div class="field">
              <label for="description">Description</label>
              <textarea id="description" rows={3} value={description} maxLength={DESCRIPTION_MAX} onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)} />
            </div>
          )}
        </fieldset>
      )}

      {direct && (
        <>
          <fieldset>
            <legend>Who can see it</legend>
            <div class="field">
              <label for="privacy">Privacy</label>
              <select id="privacy" required value={privacy} aria-describedby="privacy-hint" onChange={(e) => setPrivacy((e.currentTarget as HTMLSelectElement).value as PrivacyLevel)}>
                <option value="" disabled>
                  Choose who can see this post
                </option>
                {options.map((level) => {
                  const blocked = level === "SELF_ONLY" && disclose && branded;
                  return (
                    <option key={level} value={level} disabled={blocked} title={blocked ? TEXT.brandedNotPrivate : undefined}>
                      {PRIVACY_LABELS[level] ?? level}
                      {blocked ? " (not for branded content)" : ""}
                    </option>
                  );
                })}
              </select>
              <p class="hint" id="privacy-hint">
                {disclose && branded ? TEXT.brandedNotPrivate : "TikTok offers these choices for this account. There is no default: pick one."}
              </p>
            </div>
          </fieldset>

          <fieldset>
            <legend>Allow others to</legend>
            <Check id="allow-comment" label="Allow comments" checked={allowComment && !creator.comment_disabled} onChange={setAllowComment} disabled={creator.comment_disabled} reason={creator.comment_disabled ? "Comments are turned off in this account's TikTok settings." : null} />
            {kind === "video" && (
              <>
                <Check id="allow-duet" label="Allow Duet" checked={allowDuet && !creator.duet_disabled} onChange={setAllowDuet} disabled={creator.duet_disabled} reason={creator.duet_disabled ? "Duet is turned off for this account in TikTok (or the account is private)." : null} />
                <Check id="allow-stitch" label="Allow Stitch" checked={allowStitch && !creator.stitch_disabled} onChange={setAllowStitch} disabled={creator.stitch_disabled} reason={creator.stitch_disabled ? "Stitch is turned off for this account in TikTok (or the account is private)." : null} />
              </>
            )}
          </fieldset>

          <fieldset>
            <legend>Commercial content</legend>
            <Check id="disclose" role="switch" label="Disclose commercial content" checked={disclose} onChange={setDisclose} reason="Turn on if this post promotes yourself, a brand, a product or a service." />
            {disclose && (
              <div class="nested">
                <Check id="your-brand" label="Your brand" checked={yourBrand} onChange={setYourBrand} reason="You are promoting yourself or your own business." />
                <Check id="branded-content" label="Branded content" checked={branded} onChange={setBranded} disabled={privacy === "SELF_ONLY"} reason={privacy === "SELF_ONLY" ? TEXT.brandedNotPrivate : "You are promoting another brand or a third party."} />
                <p class={label ? "notice" : "field-error"} role="status">
                  {label ?? TEXT.disclosureIncomplete}
                </p>
              </div>
            )}
          </fieldset>

          <fieldset>
            <legend>AI-generated content</legend>
            <Check id="aigc" label="Label as AI-generated" checked={aigc} onChange={setAigc} reason='TikTok shows "Creator labeled as AI-generated" on the post.' />
          </fieldset>
        </>
      )}

      <SchedulePicker
        value={when}
        onChange={(next) => {
          setWhen(next);
          if (next.later && deviceVideo) setTransfer("stage");
        }}
        note={deviceVideo ? DEVICE_VIDEO_NOTE : null}
        error={error}
      />

      <div class="submit">
        <p class="consent" id="consent">
          {consent === "branded" ? (
            <>
              By posting, you agree to TikTok's{" "}
              <a href={LINKS.brandedContentPolicy} target="_blank" rel="noopener noreferrer">
                Branded Content Policy
              </a>{" "}
              and{" "}
              <a href={LINKS.musicUsage} target="_blank" rel="noopener noreferrer">
                Music Usage Confirmation
              </a>
              .
            </>
          ) : (
            <>
              By posting, you agree to TikTok's{" "}
              <a href={LINKS.musicUsage} target="_blank" rel="noopener noreferrer">
                Music Usage Confirmation
              </a>
              .
            </>
          )}
        </p>
        <p class="notice" id="processing-notice">
          {direct ? TEXT.processingNotice : "After you send it, TikTok may take a few minutes to process it before the notification appears in your TikTok inbox."}
        </p>
        {blockers.length > 0 && (
          <ul class="blockers" id="blockers" aria-label="Before you can post">
            {blockers.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        )}
        <span title={direct && disclose && !yourBrand && !branded ? TEXT.disclosureIncomplete : undefined}>
          <button type="submit" class="button-primary button-large" disabled={!ready} aria-describedby={`${blockers.length ? "blockers " : ""}consent`}>
            {busy ? (when.later ? "Scheduling…" : "Sending to TikTok…") : when.later ? "Schedule" : direct ? "Post" : "Send to inbox"}
          </button>
        </span>
        {error !== null && !isScheduleError(error) && <ErrorMessage error={error} />}
      </div>
    </form>
  );
}

export function PostPage({ query }: { query: URLSearchParams }) {
  const [accounts] = useAccounts();
  const wanted = query.get("account");
  const list = accounts.kind === "ok" ? accounts.value : [];
  const active = list.filter((a) => a.status === "active");
  const account = list.find((a) => a.open_id === wanted) ?? active[0] ?? null;
  const creator = useCreatorInfo(account && account.status === "active" ? account.open_id : null);

  return (
    <section>
      <PageTitle>Post to TikTok</PageTitle>
      {accounts.kind === "loading" && <Loading what="your accounts" />}
      {accounts.kind === "error" && <ErrorMessage error={accounts.error} />}
      {accounts.kind === "ok" && !account && (
        <div class="card empty">
          <p>Connect a TikTok account first.</p>
          <a class="button button-primary" href={connectUrl("/post")}>
            Connect a TikTok account
          </a>
        </div>
      )}
      {account && list.length > 1 && (
        <div class="field account-picker">
          <label for="account">Account</label>
          <select id="account" value={account.open_id} onChange={(e) => navigate(`/post?account=${encodeURIComponent((e.currentTarget as HTMLSelectElement).value)}`, { replace: true })}>
            {list.map((a) => (
              <option key={a.open_id} value={a.open_id} disabled={a.status !== "active"}>
                {a.display_name || handle(a)} ({handle(a)}){a.status !== "active" ? " – needs reconnecting" : ""}
              </option>
            ))}
          </select>
        </div>
      )}
      {account && account.status !== "active" && (
        <p class="warning">
          {handle(account)} needs reconnecting before it can post. <a href={connectUrl("/post")}>Reconnect {handle(account)}</a>
        </p>
      )}
      {account && account.status === "active" && creator.kind === "loading" && <Loading what="the account's posting settings from TikTok" />}
      {account && creator.kind === "error" && <CannotPost error={creator.error} account={account} />}
      {account && creator.kind === "ok" && <Composer key={account.open_id} account={account} creator={creator.value} />}
      <p class="muted small">
        <Link href="/history">See your earlier posts</Link>
      </p>
    </section>
  );
}
