// The signed-in user, from the server's session (GET /api/session): one place that knows it.
import { useEffect, useState } from "preact/hooks";
import { request } from "./api/client";
import type { SessionResponse, User } from "./api/types";

export type SessionState = { kind: "loading" } | { kind: "signed-out" } | { kind: "signed-in"; user: User };

let state: SessionState = { kind: "loading" };
const listeners = new Set<(s: SessionState) => void>();

function set(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener(state);
}

export async function loadSession(): Promise<void> {
  try {
    const { user } = await request<SessionResponse>("/api/session", { quiet401: true });
    set({ kind: "signed-in", user });
  } catch {
    set({ kind: "signed-out" });
  }
}

export function signedIn(user: User): void {
  set({ kind: "signed-in", user });
}

export function signedOut(): void {
  set({ kind: "signed-out" });
}

export function useSession(): SessionState {
  const [value, setValue] = useState(state);
  useEffect(() => {
    listeners.add(setValue);
    setValue(state);
    return () => {
      listeners.delete(setValue);
    };
  }, []);
  return value;
}
