// The user's connected TikTok accounts, shared by the pages that pick one.
import { useEffect, useState } from "preact/hooks";
import { request } from "./api/client";
import type { Account, AccountsResponse } from "./api/types";

export type Loaded<T> = { kind: "loading" } | { kind: "error"; error: unknown } | { kind: "ok"; value: T };

export function useAccounts(version = 0): [Loaded<Account[]>, () => void] {
  const [state, setState] = useState<Loaded<Account[]>>({ kind: "loading" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    request<AccountsResponse>("/api/tiktok/accounts").then(
      ({ accounts }) => live && setState({ kind: "ok", value: accounts }),
      (error) => live && setState({ kind: "error", error }),
    );
    return () => {
      live = false;
    };
  }, [version, tick]);
  return [state, () => setTick((t) => t + 1)];
}

export function handle(account: Pick<Account, "username" | "display_name" | "open_id">): string {
  return account.username ? `@${account.username}` : account.display_name || account.open_id;
}

export function connectUrl(returnTo: string): string {
  return `/api/tiktok/connect?return_to=${encodeURIComponent(returnTo)}`;
}

export const STATUS_TEXT: Record<Account["status"], string> = {
  active: "Connected",
  needs_reconnect: "Needs reconnecting",
  revoked: "Access removed",
};
