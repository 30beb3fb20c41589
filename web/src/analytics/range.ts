// The analytics page's date range: a preset (the last 7, 30, 90 or 365 UTC days, today included)
// or a custom from/to, kept in the URL. Custom values go to the API as typed: the API bounds a
// range to 400 days and its 400 says what is wrong, shown next to the picker.
export const PRESETS = [7, 30, 90, 365] as const;
export const DEFAULT_DAYS = 30;
export const MAX_DAYS = 400;

export type Range =
  | { kind: "preset"; days: number; from: string; to: string }
  | { kind: "custom"; from: string; to: string };

/** Today as a UTC day (YYYY-MM-DD): snapshots are taken per UTC day. */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export function rangeFrom(query: URLSearchParams, today = todayUtc()): Range {
  const from = query.get("from");
  const to = query.get("to");
  if (from !== null || to !== null) return { kind: "custom", from: from ?? "", to: to ?? "" };
  const asked = query.get("days");
  const days = PRESETS.find((n) => String(n) === asked) ?? DEFAULT_DAYS;
  return { kind: "preset", days, from: addDays(today, 1 - days), to: today };
}

/** The URL query of a range (presets by their length, so a bookmark stays "the last N days"). */
export function rangeQuery(range: Range): Record<string, string> {
  return range.kind === "preset" ? { days: String(range.days) } : { from: range.from, to: range.to };
}
