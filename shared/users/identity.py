"""Google sign-in: verifying a Firebase ID token with firebase-admin.

firebase-admin checks the signature, audience (the project), issuer and, with ``check_revoked``,
whether the user's tokens were revoked or the user disabled. Under the Auth emulator it skips the
signature and the expiry check, so the expiry is checked here as well: an expired token is refused
the same way everywhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.errors import Unauthenticated, Unavailable

if TYPE_CHECKING:
    import firebase_admin

_CLOCK_SKEW_SECONDS = 5


@dataclass(frozen=True)
class Identity:
    uid: str
    email: str | None
    name: str | None
    picture: str | None


def verify_id_token(
    id_token: str, app: firebase_admin.App, *, now: float | None = None
) -> Identity:
    """Return who the ID token names, or raise Unauthenticated saying why it was refused."""
    # Imported here, not at the top: firebase_admin.auth is heavy and only sign-in and account
    # deletion use it; every other request is authenticated by the session cookie alone.
    from firebase_admin import auth, exceptions

    try:
        claims: dict[str, Any] = auth.verify_id_token(id_token, app=app, check_revoked=True)
    except auth.ExpiredIdTokenError:
        raise Unauthenticated("the Google sign-in token has expired; sign in again") from None
    except auth.RevokedIdTokenError:
        raise Unauthenticated("the Google sign-in token was revoked; sign in again") from None
    except auth.UserDisabledError:
        raise Unauthenticated("this user account is disabled") from None
    except auth.InvalidIdTokenError as exc:
        raise Unauthenticated(f"the Google sign-in token is invalid: {_reason(exc)}") from None
    except auth.UserNotFoundError:
        raise Unauthenticated("the Google sign-in token names an unknown user") from None
    except (auth.CertificateFetchError, exceptions.FirebaseError) as exc:
        raise Unavailable("Firebase Auth could not verify the sign-in token now") from exc
    except ValueError as exc:  # Not a string, or empty.
        raise Unauthenticated(f"the Google sign-in token is invalid: {exc}") from None

    current = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp + _CLOCK_SKEW_SECONDS < current:
        raise Unauthenticated("the Google sign-in token has expired; sign in again")
    return Identity(
        uid=str(claims["uid"]),
        email=_opt_str(claims.get("email")),
        name=_opt_str(claims.get("name")),
        picture=_opt_str(claims.get("picture")),
    )


def _reason(exc: Exception) -> str:
    # firebase-admin's messages say which claim failed (audience, issuer, ...); keep the first
    # sentence, which never contains the token.
    return str(exc).split(". ")[0].rstrip(".")


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def delete_auth_user(uid: str, app: firebase_admin.App) -> None:
    """Delete the Firebase Auth user record (email, name, photo, sign-in providers); repeatable."""
    from firebase_admin import auth, exceptions  # Lazy, as in verify_id_token.

    try:
        auth.delete_user(uid, app=app)
    except auth.UserNotFoundError:
        return
    except exceptions.FirebaseError as exc:
        raise Unavailable("Firebase Auth could not delete the sign-in record now") from exc
