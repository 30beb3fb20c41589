// Small shared pieces: error messages that take focus and keep the reason for support, avatars,
// page headings that receive focus after navigation, and a status line for live updates.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api/client";

export function describeError(error: unknown): { message: string; reference: string | null } {
  if (error instanceof ApiError) {
    const reference = [error.reason, error.code, error.status ? `HTTP ${error.status}` : null]
      .filter(Boolean)
      .join(" · ");
    return { message: error.plain, reference: reference || null };
  }
  if (error instanceof Error) return { message: error.message, reference: null };
  return { message: String(error), reference: null };
}

/** An error shown next to what caused it; focus moves to it so keyboard and screen-reader users hear it. */
export function ErrorMessage({ error, id, focus = true, children }: {
  error: unknown;
  id?: string;
  focus?: boolean;
  children?: ComponentChildren;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focus) ref.current?.focus();
  }, [error, focus]);
  const { message, reference } = describeError(error);
  return (
    <div class="error" role="alert" tabIndex={-1} ref={ref} id={id}>
      <p class="error-message">{message}</p>
      {children}
      {reference && <p class="error-reference">Reference for support: <code>{reference}</code></p>}
    </div>
  );
}

export function Avatar({ url, name, size = 48 }: { url?: string | null; name: string; size?: number }) {
  const initials = name.replace(/^@/, "").slice(0, 1).toUpperCase() || "?";
  return (
    <span class="avatar" style={{ width: `${size}px`, height: `${size}px` }} aria-hidden="true">
      <span class="avatar-initial">{initials}</span>
      {url && (
        <img
          src={url}
          alt=""
          width={size}
          height={size}
          referrerpolicy="no-referrer"
          onError={(e) => ((e.currentTarget as HTMLImageElement).style.display = "none")}
        />
      )}
    </span>
  );
}

/** The page's <h1>; it takes focus when the page opens, so the new page is announced. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (document.activeElement === document.body || document.activeElement?.closest("nav")) {
      ref.current?.focus({ preventScroll: false });
    }
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return new Intl.NumberFormat(undefined, { notation: n >= 10000 ? "compact" : "standard" }).format(n);
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(1)} MB`;
  return `${(n / 1_000_000_000).toFixed(2)} GB`;
}

/** A modal confirmation of a destructive action: ``act`` runs on confirm; its answer goes to
 * ``onDone``, its failure is shown in the dialog (which stays open to try again or cancel). */
export function ConfirmDialog<T>({ titleId, title, confirmLabel, busyLabel, act, onClose, onDone, children }: {
  titleId: string;
  title: ComponentChildren;
  confirmLabel: string;
  busyLabel: string;
  act: () => Promise<T>;
  onClose: () => void;
  onDone: (result: T) => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      onDone(await act());
    } catch (exc) {
      setError(exc);
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={onClose}>
      <h2 id={titleId}>{title}</h2>
      {children}
      {error !== null && <ErrorMessage error={error} />}
      <div class="actions">
        <button type="button" class="button-danger" onClick={confirm} disabled={busy}>
          {busy ? busyLabel : confirmLabel}
        </button>
        <button type="button" onClick={() => ref.current?.close()} disabled={busy}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}

/** A checkbox (or a switch) with its label, and the reason it is off or disabled, tied to it for
 * screen readers: the post page and the scheduled post's settings editor show the same rules. */
export function Check({ id, label, checked, onChange, disabled, reason, role }: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (value: boolean) => void;
  disabled?: boolean;
  reason?: string | null;
  role?: "switch";
}) {
  return (
    <div class={`choice${disabled ? " is-disabled" : ""}`} title={disabled && reason ? reason : undefined}>
      <input
        type="checkbox"
        id={id}
        role={role}
        checked={checked}
        disabled={disabled}
        aria-describedby={reason ? `${id}-reason` : undefined}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{label}</label>
      {reason && (
        <p class="hint" id={`${id}-reason`}>
          {reason}
        </p>
      )}
    </div>
  );
}
