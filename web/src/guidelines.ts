// TikTok's Content Sharing Guidelines for the "Post to TikTok" page, as data and small pure
// functions (docs/web-app.md lists each rule and the test that proves it).
import type { CreatorInfo, PrivacyLevel, PublishRequest } from "./api/types";

export const PRIVACY_LABELS: Record<PrivacyLevel, string> = {
  PUBLIC_TO_EVERYONE: "Everyone",
  MUTUAL_FOLLOW_FRIENDS: "Friends (followers you follow back)",
  FOLLOWER_OF_CREATOR: "Followers",
  SELF_ONLY: "Only me",
};

export const TEXT = {
  disclosureIncomplete: "You need to indicate if your content promotes yourself, a third party, or both.",
  brandedNotPrivate: "Branded content visibility cannot be set to private.",
  processingNotice:
    "After you post, it may take a few minutes for TikTok to process your post and for it to appear on your profile.",
};

export const LINKS = {
  musicUsage: "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en",
  brandedContentPolicy: "https://www.tiktok.com/legal/page/global/bc-policy/en",
};

/** Reasons TikTok gives (creator_info) for a creator who cannot post right now. */
export const CANNOT_POST: Record<string, string> = {
  "tiktok.spam_risk_too_many_posts":
    "This account has reached TikTok's limit of posts made through apps for today. Try again tomorrow.",
  "tiktok.spam_risk_user_banned_from_posting": "TikTok does not allow this account to post right now.",
  "tiktok.reached_active_user_cap":
    "TikTok's daily limit of creators posting through this app has been reached. Try again later.",
};

export type MediaKind = "video" | "photo";

/** The label TikTok puts on the post, given the commercial content choices. */
export function commercialLabel(kind: MediaKind, yourBrand: boolean, branded: boolean): string | null {
  const what = kind === "photo" ? "photo" : "video";
  if (branded) return `Your ${what} will be labeled as "Paid partnership".`;
  if (yourBrand) return `Your ${what} will be labeled as "Promotional content".`;
  return null;
}

/** What the creator chose for a direct post (an inbox video has none of these: TikTok asks in
 * its app). */
export interface DirectChoices {
  privacy: PrivacyLevel | "";
  allowComment: boolean;
  allowDuet: boolean;
  allowStitch: boolean;
  disclose: boolean;
  yourBrand: boolean;
  branded: boolean;
  aigc: boolean;
}

/** A direct post's settings as sent to the API: an interaction the creator turned off at TikTok
 * is sent off whatever the box says, and a photo has no duet or stitch. */
export function directSettings(kind: MediaKind, c: DirectChoices, creator: CreatorInfo): NonNullable<PublishRequest["post"]> {
  return {
    privacy_level: c.privacy as PrivacyLevel,
    allow_comment: c.allowComment && !creator.comment_disabled,
    ...(kind === "video"
      ? { allow_duet: c.allowDuet && !creator.duet_disabled, allow_stitch: c.allowStitch && !creator.stitch_disabled }
      : {}),
    disclose_commercial_content: c.disclose,
    brand_organic: c.disclose && c.yourBrand,
    brand_content: c.disclose && c.branded,
    is_aigc: c.aigc,
  };
}

export function consentKind(disclose: boolean, branded: boolean): "branded" | "music" {
  return disclose && branded ? "branded" : "music";
}

export function durationProblem(duration: number | null, creator: CreatorInfo): string | null {
  if (duration === null) return null;
  const max = creator.max_video_post_duration_sec;
  if (duration > max) {
    return `This video is ${formatDuration(duration)} long; ${creator.creator_nickname} can post videos of at most ${formatDuration(max)}. Trim it and choose it again.`;
  }
  return null;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m === 0) return `${s} seconds`;
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

/** utf-16 code units, as TikTok counts title length. */
export function utf16Length(text: string): number {
  return text.length;
}

export const TITLE_MAX = { video: 2200, photo: 90 } as const;
export const DESCRIPTION_MAX = 4000;
