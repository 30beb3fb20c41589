"""Envelope encryption of tokens: the vault, Cloud KMS at the edge, and the re-wrap job."""
