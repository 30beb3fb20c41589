// The account's analytics setting, shown and changed on its analytics page. Turning collection
// off deletes every stored snapshot of the account (a right to restrict processing), so it asks
// first, in a native <dialog>, saying exactly that; turning it on again needs no confirmation.
import { useState } from "preact/hooks";
import { request } from "../api/client";
import type { UpdateAccountSettingsResponse } from "../api/types";
import { ConfirmDialog, ErrorMessage } from "../ui";

const REASONS: Record<string, string> = {
  "scope_missing.user.info.stats":
    "TikTok did not give this app permission to read the account's stats, so no snapshot is taken. Reconnect the account and allow it.",
  "scope_missing.video.list":
    "TikTok did not give this app permission to read the account's videos, so snapshots hold the account's stats only. Reconnect the account and allow it.",
};

function change(openId: string, enabled: boolean): Promise<UpdateAccountSettingsResponse> {
  return request<UpdateAccountSettingsResponse>(`/api/tiktok/accounts/${encodeURIComponent(openId)}`, {
    method: "PATCH",
    body: { analytics_enabled: enabled },
  });
}

function TurnOffDialog({ openId, name, onClose, onDone }: {
  openId: string;
  name: string;
  onClose: () => void;
  onDone: (result: UpdateAccountSettingsResponse) => void;
}) {
  return (
    <ConfirmDialog
      titleId="analytics-off-title"
      title={<>Turn off analytics for {name}?</>}
      confirmLabel="Turn off and delete snapshots"
      busyLabel="Turning off…"
      act={() => change(openId, false)}
      onClose={onClose}
      onDone={onDone}
    >
      <p>
        This deletes every daily snapshot stored for {name}: its follower counts and its videos' views, likes,
        comments and shares, on every day so far. It cannot be undone.
      </p>
      <p>No new snapshot is taken until you turn analytics back on. Your post history is kept.</p>
    </ConfirmDialog>
  );
}

export function AnalyticsSetting({ openId, name, enabled, reason, onChanged }: {
  openId: string;
  name: string;
  enabled: boolean;
  reason: string | null | undefined;
  onChanged: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  const turnOn = async () => {
    setBusy(true);
    setError(null);
    try {
      await change(openId, true);
      setDone(`Analytics are on for ${name}: the next daily snapshot is taken at the next daily run (00:30 UTC).`);
      onChanged();
    } catch (exc) {
      setError(exc);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card setting" aria-labelledby="analytics-setting-title">
      <h2 id="analytics-setting-title">Collecting analytics</h2>
      <p>
        {enabled
          ? `On: once a day this app saves ${name}'s follower count and its recent videos' views, likes, comments and shares, kept 400 days.`
          : `Off: no snapshot of ${name} is taken and none is stored.`}
      </p>
      {enabled && reason && <p class="warning">{REASONS[reason] ?? `Snapshots are incomplete (${reason}).`}</p>}
      {done && (
        <p class="success" role="status">
          {done}
        </p>
      )}
      {error !== null && <ErrorMessage error={error} />}
      <div class="actions">
        {enabled ? (
          <button type="button" class="button-quiet-danger" onClick={() => setConfirming(true)}>
            Turn analytics off
          </button>
        ) : (
          <button type="button" onClick={turnOn} disabled={busy}>
            {busy ? "Turning on…" : "Turn analytics on"}
          </button>
        )}
      </div>
      {confirming && (
        <TurnOffDialog
          openId={openId}
          name={name}
          onClose={() => setConfirming(false)}
          onDone={(result) => {
            setConfirming(false);
            const n = result.deleted_snapshots;
            setDone(`Analytics are off for ${name}: ${n} daily snapshot${n === 1 ? " was" : "s were"} deleted.`);
            onChanged();
          }}
        />
      )}
    </section>
  );
}
