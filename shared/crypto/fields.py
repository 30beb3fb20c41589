"""Every vault-encrypted field in Firestore, and the one place its value is sealed and opened.

A ciphertext is bound to the document path and field that hold it (the vault's associated data),
so a value copied to another document or field does not decrypt. The context is built here and
nowhere else, from :data:`ENCRYPTED_FIELDS`; a new encrypted field is added to that table, and the
re-wrap job (shared/crypto/rewrap.py) then covers it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.crypto.vault import field_context

if TYPE_CHECKING:
    from shared.crypto.vault import Encryptor, Vault

# Collection-group id -> {stored field: the name it is sealed under}.
ENCRYPTED_FIELDS: Mapping[str, Mapping[str, str]] = {
    "accounts": {"access_token_enc": "access_token", "refresh_token_enc": "refresh_token"},
    "posts": {"upload_url_enc": "upload_url"},
}


def context(doc_path: str, name: str) -> str:
    """The associated data of field ``name`` (e.g. ``access_token``) of the document at
    ``doc_path``; ValueError for a field the table does not list."""
    group = doc_path.rsplit("/", 2)[-2] if doc_path.count("/") else ""
    if name not in ENCRYPTED_FIELDS.get(group, {}).values():
        raise ValueError(f"{name!r} is not an encrypted field of {group or doc_path!r} documents")
    return field_context(doc_path, name)


def seal(encryptor: Encryptor | Vault, doc_path: str, name: str, value: str) -> str:
    """``value`` encrypted for field ``name`` of the document at ``doc_path``."""
    return encryptor.encrypt(value, context=context(doc_path, name))


def unseal(vault: Vault, doc_path: str, name: str, stored: str) -> str:
    """The value of field ``name`` of the document at ``doc_path`` from its ciphertext."""
    return vault.decrypt(stored, context=context(doc_path, name))
