// My data: export everything stored (JSON, or CSV files in a zip) and delete the account with a
// typed confirmation; afterwards the app is signed out.
import { useState } from "preact/hooks";
import { errorFrom, request } from "../api/client";
import type { DeleteMeResponse } from "../api/types";
import { navigate } from "../router";
import { signedOut } from "../session";
import { ErrorMessage, PageTitle } from "../ui";

const PHRASE = "delete my account";

/** Downloads the export through fetch, so a failure is shown here instead of saved as a file. */
async function download(format: "json" | "csv"): Promise<void> {
  const response = await fetch(`/api/me/export?format=${format}`, { credentials: "same-origin" });
  if (!response.ok) throw await errorFrom(response);
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = format === "json" ? "my-data.json" : "my-data.zip";
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function DataPage() {
  const [exportError, setExportError] = useState<unknown>(null);
  const [exporting, setExporting] = useState<"json" | "csv" | null>(null);
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
          {(["json", "csv"] as const).map((format) => (
            <button
              key={format}
              type="button"
              disabled={exporting !== null}
              onClick={async () => {
                setExporting(format);
                setExportError(null);
                try {
                  await download(format);
                } catch (exc) {
                  setExportError(exc);
                } finally {
                  setExporting(null);
                }
              }}
            >
              {exporting === format ? "Preparing…" : format === "json" ? "Download as JSON" : "Download as CSV (zip)"}
            </button>
          ))}
        </p>
        {exportError !== null && <ErrorMessage error={exportError} />}
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
