// The user's connected TikTok accounts, shared by the pages that pick one.
import { useEffect, useState } from "preact/hooks";
import { request } from "./api/client";
import type { Account, AccountsResponse, CreatorInfo } from "./api/types";

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

/** An account's creator info, fresh from TikTok each time ``openId`` changes (TikTok's Content
 * Sharing Guidelines: the posting options come from TikTok, never from a cache). */
export function useCreatorInfo(openId: string | null | undefined): Loaded<CreatorInfo> {
  const [state, setState] = useState<Loaded<CreatorInfo>>({ kind: "loading" });
  useEffect(() => {
    if (!openId) return;
    let live = true;
    setState({ kind: "loading" });
    request<CreatorInfo>(`/api/tiktok/accounts/${encodeURIComponent(openId)}/creator-info`).then(
      (value) => live && setState({ kind: "ok", value }),
      (error) => live && setState({ kind: "error", error }),
    );
    return () => {
      live = false;
    };
  }, [openId]);
  return state;
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
