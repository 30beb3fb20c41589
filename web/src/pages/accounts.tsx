// Accounts: each connected TikTok account with its profile, stats and status; connect another,
// reconnect one TikTok no longer accepts, disconnect (saying exactly what is deleted).
import { useState } from "preact/hooks";
import { request } from "../api/client";
import type { Account, DisconnectResponse } from "../api/types";
import { connectUrl, handle, STATUS_TEXT, useAccounts } from "../accounts";
import { Link, navigate } from "../router";
import { Avatar, ConfirmDialog, ErrorMessage, formatCount, Loading, PageTitle } from "../ui";

const CONNECT_ERRORS: Record<string, string> = {
  access_denied: "You declined on TikTok's page, so no account was connected.",
  invalid_state: "That connection link had expired or was already used. Please try again.",
  temporarily_unavailable: "TikTok could not be reached. Please try again in a moment.",
};

const RECONNECT_REASONS: Record<string, string> = {
  "tiktok.access_token_invalid": "TikTok no longer accepts this app's access.",
  "tiktok.invalid_grant": "The connection expired at TikTok.",
  "tiktok.scope_not_authorized": "A permission this app needs was turned off.",
};

function Stats({ account }: { account: Account }) {
  const items: [string, number | undefined][] = [
    ["Followers", account.follower_count],
    ["Following", account.following_count],
    ["Likes", account.likes_count],
    ["Videos", account.video_count],
  ];
  return (
    <dl class="stats">
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{formatCount(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

function DisconnectDialog({ account, onClose, onDone }: {
  account: Account;
  onClose: () => void;
  onDone: (result: DisconnectResponse) => void;
}) {
  return (
    <ConfirmDialog
      titleId={`disconnect-title-${account.open_id}`}
      title={<>Disconnect {handle(account)}?</>}
      confirmLabel="Disconnect"
      busyLabel="Disconnecting…"
      act={() =>
        request<DisconnectResponse>(`/api/tiktok/accounts/${encodeURIComponent(account.open_id)}`, { method: "DELETE" })
      }
      onClose={onClose}
      onDone={onDone}
    >
      <p>This app will ask TikTok to revoke its access to {handle(account)}, then delete:</p>
      <ul>
        <li>the account's TikTok access tokens, kept encrypted here;</li>
        <li>its profile and stats copied from TikTok;</li>
        <li>its daily analytics snapshots.</li>
      </ul>
      <p>
        Its scheduled posts are cancelled: they are never sent to TikTok, even if you connect the account again.
      </p>
      <p>
        Videos and photos already on TikTok stay there. Your post history in this app is kept until you
        delete your data.
      </p>
    </ConfirmDialog>
  );
}

function AccountCard({ account, onDisconnect }: { account: Account; onDisconnect: () => void }) {
  const usable = account.status === "active";
  const reason = account.status_reason ? RECONNECT_REASONS[account.status_reason] : null;
  return (
    <li class="card account">
      <div class="account-head">
        <Avatar url={account.avatar_url} name={account.display_name || account.username || "?"} size={56} />
        <div>
          <h2>{account.display_name || handle(account)}</h2>
          <p class="muted">{handle(account)}</p>
        </div>
        <span class={`badge badge-${account.status}`}>{STATUS_TEXT[account.status]}</span>
      </div>
      {!usable && (
        <p class="warning">
          {reason || "TikTok no longer accepts this app's access to this account."} Reconnect it to post again.
          {account.status_reason && <span class="error-reference"> (reference: <code>{account.status_reason}</code>)</span>}
        </p>
      )}
      <Stats account={account} />
      <div class="actions">
        {usable ? (
          <Link class="button button-primary" href={`/post?account=${encodeURIComponent(account.open_id)}`}>
            Post to {handle(account)}
          </Link>
        ) : (
          <a class="button button-primary" href={connectUrl("/accounts")}>
            Reconnect {handle(account)}
          </a>
        )}
        <Link class="button" href={`/videos?account=${encodeURIComponent(account.open_id)}`}>
          Videos
        </Link>
        <Link class="button" href={`/history?account=${encodeURIComponent(account.open_id)}`}>
          History
        </Link>
        <Link class="button" href={`/accounts/${encodeURIComponent(account.open_id)}/analytics`}>
          Analytics
        </Link>
        <button type="button" class="button-quiet-danger" onClick={onDisconnect}>
          Disconnect {handle(account)}
        </button>
      </div>
    </li>
  );
}

export function AccountsPage({ query }: { query: URLSearchParams }) {
  const [accounts, reload] = useAccounts();
  const [confirming, setConfirming] = useState<Account | null>(null);
  const [done, setDone] = useState<{ account: Account; result: DisconnectResponse } | null>(null);
  const connected = query.get("connected");
  const connectError = query.get("error");
  const connectedAccount =
    accounts.kind === "ok" && connected ? accounts.value.find((a) => a.open_id === connected) : undefined;

  return (
    <section>
      <div class="page-head">
        <PageTitle>Your TikTok accounts</PageTitle>
        <a class="button button-primary" href={connectUrl("/accounts")}>
          {accounts.kind === "ok" && accounts.value.length ? "Connect another account" : "Connect a TikTok account"}
        </a>
      </div>
      <p class="hint">
        What connecting lets us read and keep, and how your TikTok tokens are protected: our{" "}
        <a href="/privacy">privacy policy</a>.
      </p>
      {connected && (
        <p class="success" role="status">
          {connectedAccount ? `${handle(connectedAccount)} is connected.` : "Your TikTok account is connected."}{" "}
          <button type="button" class="button-link" onClick={() => navigate("/accounts", { replace: true })}>
            Dismiss
          </button>
        </p>
      )}
      {connectError && (
        <ErrorMessage error={new Error(CONNECT_ERRORS[connectError] ?? "TikTok did not connect the account.")}>
          <p class="error-reference">
            Reference for support: <code>{connectError}</code>
          </p>
        </ErrorMessage>
      )}
      {done && (
        <div class={done.result.revoked_at_tiktok ? "success" : "warning"} role="status">
          <p>
            {handle(done.account)} is disconnected: its tokens and profile were deleted
            {done.result.revoked_at_tiktok ? " and TikTok revoked this app's access." : "."}
          </p>
          {done.result.cancelled_scheduled > 0 && (
            <p>
              {done.result.cancelled_scheduled === 1 ? "Its scheduled post was" : `Its ${done.result.cancelled_scheduled} scheduled posts were`} cancelled.
            </p>
          )}
          {!done.result.revoked_at_tiktok && (
            <p>
              TikTok could not be told. To remove this app's access yourself, open TikTok and go to{" "}
              <strong>Profile &gt; Menu &gt; Settings and privacy &gt; Security and permissions &gt; Apps and services permissions</strong>
              , then remove this app.
            </p>
          )}
        </div>
      )}
      {accounts.kind === "loading" && <Loading what="your accounts" />}
      {accounts.kind === "error" && <ErrorMessage error={accounts.error} />}
      {accounts.kind === "ok" && accounts.value.length === 0 && (
        <div class="card empty">
          <p>No TikTok account is connected yet.</p>
          <p>Connecting opens TikTok, where you choose the account and approve what this app may do.</p>
        </div>
      )}
      {accounts.kind === "ok" && accounts.value.length > 0 && (
        <ul class="accounts">
          {accounts.value.map((account) => (
            <AccountCard key={account.open_id} account={account} onDisconnect={() => setConfirming(account)} />
          ))}
        </ul>
      )}
      {confirming && (
        <DisconnectDialog
          account={confirming}
          onClose={() => setConfirming(null)}
          onDone={(result) => {
            setDone({ account: confirming, result });
            setConfirming(null);
            reload();
          }}
        />
      )}
    </section>
  );
}
