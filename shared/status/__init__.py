"""Following a post: TikTok's webhook, status polls, the sweep, and the order of statuses."""
