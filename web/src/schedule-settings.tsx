// Changing a scheduled post's settings on the Scheduled page (PATCH /api/publish/{id} {post}): the
// caption, who can see it, interactions, commercial content and the AI label, checked against the
// account's fresh creator info as the post page checks them (TikTok's Content Sharing
// Guidelines): privacy only from TikTok's options, an interaction the creator turned off cannot be
// on, branded content cannot be private, a disclosure needs a choice. The API checks the same
// rules again; its refusal is shown here.
import { useState } from "preact/hooks";
import { ApiError, request } from "./api/client";
import type { CreatorInfo, HistoryPost, Post, PrivacyLevel, PublishRequest } from "./api/types";
import { type Loaded, useCreatorInfo } from "./accounts";
import { CANNOT_POST, commercialLabel, DESCRIPTION_MAX, directSettings, PRIVACY_LABELS, TEXT, TITLE_MAX, utf16Length } from "./guidelines";
import { Check, ErrorMessage, Loading } from "./ui";

type Row = HistoryPost | Post;
type Settings = NonNullable<PublishRequest["post"]>;

/** Whether the post has settings a creator can change here (an inbox video has none: TikTok asks
 * for them in the app). */
export function hasSettings(post: Row): boolean {
  return post.mode === "direct" || post.media_type === "photo";
}

function Form({ post, creator, name, onSaved, onClose }: {
  post: Row;
  creator: CreatorInfo;
  name: string;
  onSaved: (post: Post) => void;
  onClose: () => void;
}) {
  const direct = post.mode === "direct";
  const photo = post.media_type === "photo";
  const options = creator.privacy_level_options as PrivacyLevel[];
  const stored = post.privacy_level as PrivacyLevel | null | undefined;
  const [title, setTitle] = useState(post.title ?? "");
  const [description, setDescription] = useState(post.description ?? "");
  // A privacy level TikTok no longer offers this creator is not kept: the user picks again.
  const [privacy, setPrivacy] = useState<PrivacyLevel | "">(stored && options.includes(stored) ? stored : "");
  const [allowComment, setAllowComment] = useState(!!post.allow_comment);
  const [allowDuet, setAllowDuet] = useState(!!post.allow_duet);
  const [allowStitch, setAllowStitch] = useState(!!post.allow_stitch);
  const [disclose, setDisclose] = useState(!!post.disclose_commercial_content);
  const [yourBrand, setYourBrand] = useState(!!post.brand_organic);
  const [branded, setBranded] = useState(!!post.brand_content);
  const [aigc, setAigc] = useState(!!post.is_aigc);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const id = `settings-${post.id}`;
  const titleMax = TITLE_MAX[photo ? "photo" : "video"];
  const label = disclose ? commercialLabel(photo ? "photo" : "video", yourBrand, branded) : null;

  const blockers: string[] = [];
  if (utf16Length(title) > titleMax) blockers.push(`The title is longer than ${titleMax} characters.`);
  if (direct && !privacy) {
    blockers.push(stored && !options.includes(stored) ? `TikTok no longer offers "${PRIVACY_LABELS[stored] ?? stored}" for this account: choose who can see this post.` : "Choose who can see this post.");
  }
  if (direct && disclose && !yourBrand && !branded) blockers.push(TEXT.disclosureIncomplete);
  if (direct && disclose && branded && privacy === "SELF_ONLY") blockers.push(TEXT.brandedNotPrivate);

  const save = async (event: Event) => {
    event.preventDefault();
    if (blockers.length || busy) return;
    const settings: Settings = { title };
    if (photo) settings.description = description;
    if (direct) {
      const chosen = { privacy, allowComment, allowDuet, allowStitch, disclose, yourBrand, branded, aigc };
      Object.assign(settings, directSettings(photo ? "photo" : "video", chosen, creator));
    }
    setBusy(true);
    setError(null);
    try {
      const { post: saved } = await request<{ post: Post }>(`/api/publish/${encodeURIComponent(post.id)}`, { method: "PATCH", body: { post: settings } });
      onSaved(saved);
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };

  return (
    <form class="nested schedule-settings" onSubmit={save} noValidate aria-label={`Settings of ${name}`}>
      <p class="muted small">
        Posting to {creator.creator_nickname} (@{creator.creator_username}), with the choices TikTok offers this account now.
      </p>
      <div class="field">
        <label for={`${id}-title`}>Title</label>
        <textarea id={`${id}-title`} rows={2} value={title} aria-describedby={`${id}-title-count`} onInput={(e) => setTitle((e.currentTarget as HTMLTextAreaElement).value)} />
        <p id={`${id}-title-count`} class={utf16Length(title) > titleMax ? "field-error" : "hint"}>
          {utf16Length(title)} / {titleMax} characters.
        </p>
      </div>
      {photo && (
        <div class="field">
          <label for={`${id}-description`}>Description</label>
          <textarea id={`${id}-description`} rows={2} value={description} maxLength={DESCRIPTION_MAX} onInput={(e) => setDescription((e.currentTarget as HTMLTextAreaElement).value)} />
        </div>
      )}
      {direct && (
        <>
          <div class="field">
            <label for={`${id}-privacy`}>Who can see it</label>
            <select id={`${id}-privacy`} required value={privacy} onChange={(e) => setPrivacy((e.currentTarget as HTMLSelectElement).value as PrivacyLevel)}>
              <option value="" disabled>
                Choose who can see this post
              </option>
              {options.map((level) => {
                const blocked = level === "SELF_ONLY" && disclose && branded;
                return (
                  <option key={level} value={level} disabled={blocked}>
                    {PRIVACY_LABELS[level] ?? level}
                    {blocked ? " (not for branded content)" : ""}
                  </option>
                );
              })}
            </select>
          </div>
          <fieldset>
            <legend>Allow others to</legend>
            <Check id={`${id}-comment`} label="Allow comments" checked={allowComment && !creator.comment_disabled} onChange={setAllowComment} disabled={creator.comment_disabled} reason={creator.comment_disabled ? "Comments are turned off in this account's TikTok settings." : null} />
            {!photo && (
              <>
                <Check id={`${id}-duet`} label="Allow Duet" checked={allowDuet && !creator.duet_disabled} onChange={setAllowDuet} disabled={creator.duet_disabled} reason={creator.duet_disabled ? "Duet is turned off for this account in TikTok (or the account is private)." : null} />
                <Check id={`${id}-stitch`} label="Allow Stitch" checked={allowStitch && !creator.stitch_disabled} onChange={setAllowStitch} disabled={creator.stitch_disabled} reason={creator.stitch_disabled ? "Stitch is turned off for this account in TikTok (or the account is private)." : null} />
              </>
            )}
          </fieldset>
          <fieldset>
            <legend>Commercial content</legend>
            <Check id={`${id}-disclose`} label="Disclose commercial content" checked={disclose} onChange={setDisclose} reason="Turn on if this post promotes yourself, a brand, a product or a service." />
            {disclose && (
              <div class="nested">
                <Check id={`${id}-your-brand`} label="Your brand" checked={yourBrand} onChange={setYourBrand} />
                <Check id={`${id}-branded`} label="Branded content" checked={branded} onChange={setBranded} disabled={privacy === "SELF_ONLY"} reason={privacy === "SELF_ONLY" ? TEXT.brandedNotPrivate : null} />
                <p class={label ? "notice" : "field-error"} role="status">
                  {label ?? TEXT.disclosureIncomplete}
                </p>
              </div>
            )}
          </fieldset>
          <Check id={`${id}-aigc`} label="Label as AI-generated" checked={aigc} onChange={setAigc} />
        </>
      )}
      {blockers.length > 0 && (
        <ul class="blockers" id={`${id}-blockers`} aria-label="Before you can save">
          {blockers.map((b) => (
            <li key={b}>{b}</li>
          ))}
        </ul>
      )}
      <div class="actions">
        <button type="submit" class="button-primary" disabled={busy || blockers.length > 0} aria-describedby={blockers.length ? `${id}-blockers` : undefined}>
          {busy ? "Saving…" : "Save the settings"}
        </button>
        <button type="button" onClick={onClose}>
          Keep the old settings
        </button>
      </div>
      {error !== null && <ErrorMessage error={error} />}
    </form>
  );
}

/** The settings editor of one scheduled post: fresh creator info first, then the form. */
export function SettingsEditor({ post, name, onSaved, onClose }: { post: Row; name: string; onSaved: (post: Post) => void; onClose: () => void }) {
  const fresh = useCreatorInfo(post.open_id);
  const creator: Loaded<CreatorInfo> = post.open_id
    ? fresh
    : { kind: "error", error: new Error("This post's account is no longer connected.") };
  if (creator.kind === "loading") return <Loading what="the account's posting settings from TikTok" />;
  if (creator.kind === "error") {
    const reason = creator.error instanceof ApiError ? creator.error.reason : undefined;
    const known = reason ? CANNOT_POST[reason] : undefined;
    return (
      <div class="nested">
        <ErrorMessage error={known ? new Error(`This account can't post right now. ${known}`) : creator.error} />
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    );
  }
  return <Form post={post} creator={creator.value} name={name} onSaved={onSaved} onClose={onClose} />;
}
