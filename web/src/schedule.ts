// Scheduling times: a wall time the user picked (<input type="datetime-local">, "YYYY-MM-DDTHH:MM")
// in an IANA time zone, turned into the RFC 3339 instant the API takes (schedule_at), with the
// offset that zone really has at that instant. Zone rules come from the browser's Intl data.
// A wall time can be missing (clocks spring forward: 02:30 does not happen) or repeated (clocks
// fall back: 01:30 happens twice, at two offsets); both are said, never guessed.

export type Converted =
  | { kind: "ok"; at: string }
  | { kind: "repeated"; earlier: string; later: string }
  | { kind: "missing" }
  | { kind: "invalid" };

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const MINUTE = 60_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formats.set(zone, f);
  }
  return f;
}

/** The wall time of an instant in a zone, as milliseconds of the same fields read as UTC. */
function wallMs(instant: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of format(zone).formatToParts(new Date(instant))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
}

/** The zone's offset from UTC at an instant, in whole minutes (east positive). */
export function offsetMinutes(instant: number, zone: string): number {
  return Math.round((wallMs(instant, zone) - Math.floor(instant / 1000) * 1000) / MINUTE);
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, "0");
}

function offsetText(minutes: number): string {
  if (minutes === 0) return "Z";
  return `${minutes < 0 ? "-" : "+"}${pad(Math.trunc(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/** An instant written as RFC 3339 in a zone's offset at that instant: 2026-12-24T18:00:00+01:00. */
export function rfc3339(instant: number, zone: string): string {
  const offset = offsetMinutes(instant, zone);
  const wall = new Date(Math.floor(instant / 1000) * 1000 + offset * MINUTE);
  const date = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  return `${date}T${time}${offsetText(offset)}`;
}

/** A wall time in a zone as schedule_at; every instant that shows that wall time there is found. */
export function toScheduleAt(local: string, zone: string): Converted {
  const m = WALL.exec(local);
  if (!m || !isZone(zone)) return { kind: "invalid" };
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const wall = Date.UTC(y!, mo! - 1, d!, h!, mi!, s || 0);
  if (Number.isNaN(wall) || new Date(wall).getUTCDate() !== d || new Date(wall).getUTCMonth() !== mo! - 1) {
    return { kind: "invalid" };
  }
  // The offsets in force around that day (a zone changes offset at most once a day) give every
  // candidate instant; those whose wall time is the one asked for are the answers.
  const offsets = new Set([-1, 0, 1].map((days) => offsetMinutes(wall + days * 86_400_000, zone)));
  const found = [...offsets]
    .map((off) => wall - off * MINUTE)
    .filter((instant) => wallMs(instant, zone) === wall)
    .sort((a, b) => a - b);
  const unique = [...new Set(found)];
  if (unique.length === 0) return { kind: "missing" };
  if (unique.length === 1) return { kind: "ok", at: rfc3339(unique[0]!, zone) };
  return { kind: "repeated", earlier: rfc3339(unique[0]!, zone), later: rfc3339(unique[unique.length - 1]!, zone) };
}

/** The value for a datetime-local input showing an instant in a zone ("YYYY-MM-DDTHH:MM"). */
export function toLocalInput(at: string | number, zone: string): string {
  return rfc3339(typeof at === "number" ? at : Date.parse(at), zone).slice(0, 16);
}

export function isZone(zone: string): boolean {
  try {
    format(zone);
    return true;
  } catch {
    return false;
  }
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function zones(): string[] {
  const list = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const here = browserZone();
  return list.includes(here) ? list : [here, ...list];
}

/** "Thu, Dec 24, 2026, 6:00 PM (Europe/Berlin, GMT+1)": an instant as the user chose it. */
export function describe(at: string, zone: string | null | undefined): string {
  const tz = zone && isZone(zone) ? zone : "UTC";
  const text = new Intl.DateTimeFormat(undefined, { timeZone: tz, dateStyle: "full", timeStyle: "short" }).format(new Date(at));
  const short = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "shortOffset" })
    .formatToParts(new Date(at))
    .find((p) => p.type === "timeZoneName")?.value;
  return `${text} (${tz}${short ? `, ${short}` : ""})`;
}
