"""Deploy to Google Cloud: `scripts/deploy` prints every command; `--apply` runs them."""
