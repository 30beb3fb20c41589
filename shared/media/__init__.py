"""Media staging: photos (and videos) uploaded from the user's device to a Cloud Storage bucket,
checked, and served to TikTok's PULL_FROM_URL through short-lived tokens (docs/media.md)."""
