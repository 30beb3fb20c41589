// The "When" choice of the post page: now, or at a date and time in a time zone the user sees and
// can change (the browser's by default). The API's refusals of the time are shown here, next to it.
import { useMemo } from "preact/hooks";
import { ApiError } from "./api/client";
import { browserZone, describe, toScheduleAt, zones } from "./schedule";
import { ErrorMessage } from "./ui";

export interface When {
  later: boolean;
  local: string;
  zone: string;
  /** Which of the two instants of a repeated wall time (clocks falling back). */
  repeat: "earlier" | "later";
}

export const NOW: When = { later: false, local: "", zone: browserZone(), repeat: "earlier" };

/** Said under "Schedule" for a video from the device: scheduling it means staging it. */
export const DEVICE_VIDEO_NOTE =
  "To schedule a video from this device, it is uploaded to this app first; TikTok fetches it from here at the time you choose.";

/** The schedule fields of the request, a problem in words, or null for "post now". */
export function scheduleOf(when: When): { schedule_at: string; schedule_tz: string } | { problem: string } | null {
  if (!when.later) return null;
  if (!when.local) return { problem: "Choose the date and time to post." };
  const got = toScheduleAt(when.local, when.zone);
  if (got.kind === "invalid") return { problem: "Enter a valid date and time." };
  if (got.kind === "missing") {
    return { problem: `${when.local.replace("T", " ")} does not exist in ${when.zone}: the clocks skip that hour. Choose another time.` };
  }
  const at = got.kind === "ok" ? got.at : when.repeat === "earlier" ? got.earlier : got.later;
  return { schedule_at: at, schedule_tz: when.zone };
}

/** Whether an API error is about the time, and so belongs next to the picker. */
export function isScheduleError(error: unknown): boolean {
  return error instanceof ApiError && !!error.reason && /^(schedule\.|request\.schedule_)/.test(error.reason);
}

export function SchedulePicker({ value, onChange, note, error }: {
  value: When;
  onChange: (when: When) => void;
  /** A word on what scheduling means for the chosen media, under "Schedule". */
  note?: string | null;
  error: unknown;
}) {
  const all = useMemo(zones, []);
  const set = (change: Partial<When>) => onChange({ ...value, ...change });
  const converted = value.later && value.local ? toScheduleAt(value.local, value.zone) : null;
  const result = scheduleOf(value);
  return (
    <fieldset class="schedule">
      <legend>When</legend>
      <div class="choice">
        <input type="radio" id="when-now" name="when" value="now" checked={!value.later} onChange={() => set({ later: false })} />
        <label for="when-now">Post now</label>
      </div>
      <div class="choice">
        <input type="radio" id="when-later" name="when" value="later" checked={value.later} onChange={() => set({ later: true })} aria-describedby={note ? "when-note" : undefined} />
        <label for="when-later">Schedule</label>
      </div>
      {note && (
        <p class="hint" id="when-note">
          {note}
        </p>
      )}
      {value.later && (
        <div class="nested">
          <div class="field">
            <label for="schedule-at">Date and time</label>
            <input id="schedule-at" type="datetime-local" value={value.local} aria-describedby="schedule-result" onInput={(e) => set({ local: (e.currentTarget as HTMLInputElement).value })} />
          </div>
          <div class="field">
            <label for="schedule-tz">Time zone</label>
            <select id="schedule-tz" value={value.zone} onChange={(e) => set({ zone: (e.currentTarget as HTMLSelectElement).value })}>
              {all.map((z) => (
                <option key={z} value={z}>
                  {z.replace(/_/g, " ")}
                </option>
              ))}
            </select>
          </div>
          {converted?.kind === "repeated" && (
            <fieldset>
              <legend>This time happens twice in {value.zone} (the clocks go back). Which one?</legend>
              {(["earlier", "later"] as const).map((r) => (
                <div class="choice" key={r}>
                  <input type="radio" id={`repeat-${r}`} name="repeat" checked={value.repeat === r} onChange={() => set({ repeat: r })} />
                  <label for={`repeat-${r}`}>
                    The {r} one ({(r === "earlier" ? converted.earlier : converted.later).slice(19)})
                  </label>
                </div>
              ))}
            </fieldset>
          )}
          <p id="schedule-result" class={result && "problem" in result ? "field-error" : "hint"} role="status">
            {result && ("problem" in result ? result.problem : `Posts ${describe(result.schedule_at, result.schedule_tz)}.`)}
          </p>
        </div>
      )}
      {isScheduleError(error) && <ErrorMessage error={error} />}
    </fieldset>
  );
}
