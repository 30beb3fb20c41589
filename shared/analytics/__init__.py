"""Daily analytics: snapshots of each account's stats and its videos' metrics."""
