// My data: export everything stored (JSON, or CSV files in a zip) and delete the account with a
// typed confirmation; afterwards the app is signed out.
import { useState } from "preact/hooks";
import { request } from "../api/client";
import type { DeleteMeResponse } from "../api/types";
import { navigate } from "../router";
import { signedOut } from "../session";
import { ErrorMessage, PageTitle } from "../ui";

const PHRASE = "delete my account";

export function DataPage() {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const matches = typed.trim().toLowerCase() === PHRASE;

  const remove = async (event: Event) => {
    event.preventDefault();
    if (!matches) return;
    setBusy(true);
    setError(null);
    try {
      await request<DeleteMeResponse>("/api/me", { method: "DELETE" });
      signedOut();
      navigate("/signin?deleted=1", { replace: true });
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };

  return (
    <section>
      <PageTitle>My data</PageTitle>
      <div class="card">
        <h2>Export</h2>
        <p>Download everything this app stores about you: your profile, connected accounts and posts. Tokens are never included.</p>
        <p class="actions">
          <a class="button" href="/api/me/export?format=json" download="my-data.json">
            Download as JSON
          </a>
          <a class="button" href="/api/me/export?format=csv" download="my-data.zip">
            Download as CSV (zip)
          </a>
        </p>
      </div>
      <form class="card danger-zone" onSubmit={remove}>
        <h2>Delete my account</h2>
        <p>
          This asks TikTok to revoke this app's access to every connected account, then deletes your profile,
          connected accounts, tokens and post history here, and signs you out. Posts already on TikTok stay on
          TikTok. This cannot be undone.
        </p>
        <div class="field">
          <label for="confirm-delete">
            Type <strong>{PHRASE}</strong> to confirm
          </label>
          <input id="confirm-delete" type="text" autoComplete="off" value={typed} aria-describedby="confirm-hint" onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)} />
          <p class="hint" id="confirm-hint">
            {matches ? "Press the button to delete everything." : "The button stays disabled until the phrase matches."}
          </p>
        </div>
        <button type="submit" class="button-danger" disabled={!matches || busy}>
          {busy ? "Deleting…" : "Delete my account and data"}
        </button>
        {error !== null && <ErrorMessage error={error} />}
      </form>
    </section>
  );
}
