"""Users: Google sign-in, and their data rights (export, deletion of all that is stored)."""
