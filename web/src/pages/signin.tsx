// Sign in with Google (a popup; the Auth emulator's locally), then POST /api/session with the
// ID token: from then on the HttpOnly session cookie is the only credential the app holds.
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import type { SessionResponse } from "../api/types";
import { signedIn } from "../session";
import { ErrorMessage, PageTitle } from "../ui";

const NOTICES: Record<string, string> = {
  expired: "Your session has ended. Please sign in again.",
  signed_out: "You are signed out.",
  everywhere: "You are signed out on every device.",
  deleted: "Your account and everything stored about it were deleted. You are signed out.",
};

export function SignInPage({ query }: { query: URLSearchParams }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const notice = query.get("deleted")
    ? NOTICES.deleted
    : query.get("signed_out") === "everywhere"
      ? NOTICES.everywhere
      : query.get("signed_out")
        ? NOTICES.signed_out
        : query.get("expired")
          ? NOTICES.expired
          : null;

  // Browsers allow a popup only right after the click: have Firebase ready before it.
  useEffect(() => {
    import("../firebase").then((m) => m.prepare()).catch(() => {});
  }, []);

  const signIn = async () => {
    setBusy(true);
    setError(null);
    try {
      const { googleIdToken } = await import("../firebase");
      const idToken = await googleIdToken();
      const { user } = await request<SessionResponse>("/api/session", {
        method: "POST",
        body: { id_token: idToken },
        quiet401: true,
      });
      signedIn(user);
    } catch (exc) {
      const code = (exc as { code?: string }).code;
      if (code === "auth/popup-closed-by-user" || code === "auth/cancelled-popup-request") {
        setError(new Error("The Google sign-in window was closed before you signed in."));
      } else if (code === "auth/popup-blocked") {
        setError(new Error("Your browser blocked the sign-in window. Allow pop-ups for this site and try again."));
      } else {
        setError(exc);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="signin card">
      <PageTitle>Sign in</PageTitle>
      <p>
        Post your videos and photos to TikTok, follow each post until it is live, and manage your
        connected accounts and data.
      </p>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <button type="button" class="button-primary button-google" onClick={signIn} disabled={busy} aria-describedby="signin-help">
        <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
          <path fill="#fff" d="M21.35 11.1H12v2.98h5.35c-.23 1.4-1.64 4.1-5.35 4.1a5.98 5.98 0 010-11.96c1.84 0 3.07.78 3.77 1.45l2.57-2.47C16.7 3.68 14.56 2.7 12 2.7a9.3 9.3 0 100 18.6c5.37 0 8.93-3.77 8.93-9.08 0-.61-.07-1.08-.16-1.55z" />
        </svg>
        {busy ? "Signing in…" : "Sign in with Google"}
      </button>
      <p id="signin-help" class="hint">
        A Google window opens. We receive your name, e-mail address and picture.
      </p>
      <p class="hint">
        How we handle your data: our <a href="/privacy">privacy policy</a>.
      </p>
      {error !== null && <ErrorMessage error={error} />}
    </section>
  );
}
