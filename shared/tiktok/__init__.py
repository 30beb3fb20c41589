"""The TikTok API client: OAuth, Display and Content Posting calls, TikTok's errors and values."""
