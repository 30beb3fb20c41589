"""Firestore access: every collection the backend keeps, read and written only here."""
