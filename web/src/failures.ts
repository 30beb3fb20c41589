// TikTok's status names and failure reasons in words a creator understands, with what to do.
export const STATUS_TEXT: Record<string, { title: string; detail: string }> = {
  INITIALIZING: { title: "Starting", detail: "Your post is being handed to TikTok." },
  UNKNOWN: { title: "Checking with TikTok", detail: "We are asking TikTok how your post is doing." },
  PROCESSING_UPLOAD: { title: "Processing the upload", detail: "TikTok has your video and is processing it." },
  PROCESSING_DOWNLOAD: { title: "TikTok is downloading your media", detail: "TikTok is fetching your media from its URL." },
  SEND_TO_USER_INBOX: {
    title: "Sent to your TikTok inbox",
    detail: "Open TikTok and tap the notification in your inbox to edit and post it.",
  },
  PUBLISH_COMPLETE: { title: "Posted", detail: "TikTok has published your post." },
  FAILED: { title: "Not posted", detail: "TikTok could not publish this post." },
  SCHEDULED: { title: "Scheduled", detail: "It is sent to TikTok at its time; until then you can change or cancel it." },
  CANCELLED: { title: "Cancelled", detail: "This scheduled post was cancelled; it was never sent to TikTok." },
};

export const FAIL_REASONS: Record<string, { what: string; todo: string }> = {
  file_format_check_failed: { what: "TikTok does not accept this file's format.", todo: "Export the video as MP4 (H.264) and post it again." },
  duration_check_failed: { what: "The video is too long or too short for TikTok.", todo: "Trim it to the length allowed for your account and post it again." },
  frame_rate_check_failed: { what: "The video's frame rate is not supported.", todo: "Export it at 23 to 60 frames per second and post it again." },
  picture_size_check_failed: { what: "The picture size is not supported.", todo: "Use a size between 360 and 4096 pixels on each side and post it again." },
  internal: { what: "TikTok had a problem on its side.", todo: "Post it again; this usually works on a second try." },
  video_pull_failed: { what: "TikTok could not download the video from its URL.", todo: "Check that the URL works and is on your verified domain, then post again." },
  photo_pull_failed: { what: "TikTok could not download a photo from its URL.", todo: "Check that every photo URL works and is on your verified domain, then post again." },
  publish_cancelled: { what: "The post was cancelled.", todo: "Start a new post when you are ready." },
  upload_abandoned: { what: "The upload was cancelled before TikTok received the whole file.", todo: "Start a new post when you are ready." },
  auth_removed: { what: "Access to the account was removed while TikTok was processing the post.", todo: "Reconnect the account on the Accounts page, then post again." },
  spam_risk_too_many_posts: { what: "The account has reached TikTok's daily limit of posts made through apps.", todo: "Try again tomorrow." },
  spam_risk_user_banned_from_posting: { what: "TikTok does not allow this account to post right now.", todo: "Check your notifications in the TikTok app." },
  spam_risk_text: { what: "TikTok flagged the caption.", todo: "Change the title and post again." },
  spam_risk: { what: "TikTok flagged this post as risky.", todo: "Review the post against TikTok's Community Guidelines." },
  status_unknown_timeout: { what: "TikTok never told us how this post ended.", todo: "Check your TikTok profile; post again if it is not there." },
};

export function failure(reason: string | null | undefined): { what: string; todo: string } {
  if (!reason) return { what: "TikTok did not say why.", todo: "Post it again; if it fails again, contact support with the reference below." };
  return FAIL_REASONS[reason] ?? { what: `TikTok reported: ${reason.replace(/_/g, " ")}.`, todo: "Post it again; if it fails again, contact support with the reference below." };
}

export const STATUSES = ["INITIALIZING", "PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX", "PUBLISH_COMPLETE", "FAILED", "SCHEDULED", "CANCELLED"] as const;

export function tiktokPostUrl(username: string | null | undefined, postId: string, mediaType?: string | null): string {
  const kind = mediaType === "photo" ? "photo" : "video";
  return username ? `https://www.tiktok.com/@${username}/${kind}/${postId}` : `https://www.tiktok.com/${kind}/${postId}`;
}
