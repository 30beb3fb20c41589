"""Publishing a post: request rules, drafts, TikTok's init, the chunk plan and relay."""
