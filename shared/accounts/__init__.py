"""Connected TikTok accounts: the OAuth connect flow, the account list, creator info, videos."""
