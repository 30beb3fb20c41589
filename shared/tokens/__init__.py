"""Usable TikTok tokens: on-demand and scheduled refresh under a lease."""
