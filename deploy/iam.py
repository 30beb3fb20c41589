"""Who the deployment runs as, and the least each identity may do."""

from __future__ import annotations

from deploy.settings import DeploySettings
from deploy.steps import Step, check, gcloud
from deploy.table import (
    BUILD_ACCOUNT,
    EVENTS_ACCOUNT,
    PUBLISHED_TOPICS,
    RUNTIME_ACCOUNT,
    SECRETS,
)

# What the runtime account may do with Firebase Auth users: verify_id_token(check_revoked=True)
# reads the user (firebaseauth.users.get) and account deletion deletes it (firebaseauth.users.
# delete). firebaseauth.viewer lacks the delete; firebaseauth.admin is the least role with both.
FIREBASE_AUTH_ROLE = "roles/firebaseauth.admin"
# The Cloud Build role a user-specified build service account needs to build a function.
BUILD_ROLE = "roles/cloudbuild.builds.builder"


def service_accounts(s: DeploySettings) -> list[Step]:
    accounts = (
        (RUNTIME_ACCOUNT, s.runtime_account, "TikTok publisher functions (runtime)"),
        (EVENTS_ACCOUNT, s.events_account, "TikTok publisher Pub/Sub triggers (invoker)"),
        (BUILD_ACCOUNT, s.build_account, "TikTok publisher function builds"),
    )
    return [
        Step(
            f"Service account {email}",
            (gcloud(s, "iam service-accounts create", name, f"--display-name={title}"),),
            check=check(s, "iam service-accounts describe", email),
        )
        for name, email, title in accounts
    ]


def grants(s: DeploySettings) -> Step:
    """Least privilege for the runtime account: only what the functions call."""
    member = f"--member=serviceAccount:{s.runtime_account}"
    key = (s.key, f"--keyring={s.keyring}", f"--location={s.kms_location}")
    return Step(
        "Grant the runtime service account what the functions use, and nothing else",
        (
            gcloud(
                s,
                "kms keys add-iam-policy-binding",
                *key,
                member,
                "--role=roles/cloudkms.cryptoKeyEncrypterDecrypter",
            ),
            gcloud(
                s,
                "projects add-iam-policy-binding",
                s.project,
                member,
                "--role=roles/datastore.user",
                "--condition=None",
            ),
            gcloud(
                s,
                "projects add-iam-policy-binding",
                s.project,
                member,
                f"--role={FIREBASE_AUTH_ROLE}",
                "--condition=None",
            ),
            *(
                gcloud(
                    s,
                    "pubsub topics add-iam-policy-binding",
                    topic,
                    member,
                    "--role=roles/pubsub.publisher",
                )
                for topic in PUBLISHED_TOPICS
            ),
            *(
                gcloud(
                    s,
                    "secrets add-iam-policy-binding",
                    secret_id,
                    member,
                    "--role=roles/secretmanager.secretAccessor",
                )
                for secret_id in SECRETS.values()
            ),
        ),
    )


def build_grant(s: DeploySettings) -> Step:
    """Builds run as their own account: on newer projects the default one may not build."""
    return Step(
        f"Grant the build service account {BUILD_ROLE}",
        (
            gcloud(
                s,
                "projects add-iam-policy-binding",
                s.project,
                f"--member=serviceAccount:{s.build_account}",
                f"--role={BUILD_ROLE}",
                "--condition=None",
            ),
        ),
    )


def push_token_grant(s: DeploySettings) -> Step:
    """Pub/Sub's agent mints the events account's tokens for authenticated push (Eventarc).

    Projects created before April 2021 do not grant it that; granting it on the one account it
    signs as is narrower than the project-wide grant and harmless where it is already implied.
    """
    return Step(
        f"Let Pub/Sub's service agent sign pushes as {EVENTS_ACCOUNT}",
        (
            gcloud(
                s,
                "iam service-accounts add-iam-policy-binding",
                s.events_account,
                f"--member=serviceAccount:{s.pubsub_agent}",
                "--role=roles/iam.serviceAccountTokenCreator",
            ),
        ),
    )
