"""The web edge: HTTP routing, JSON bodies and errors, cookies, Origin checks, sessions."""
