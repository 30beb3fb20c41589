// Photos from the user's device for a photo post: each chosen file is staged at once (slot,
// upload straight to the bucket with its own progress bar, the server's check), and its tile
// shows the outcome, a refusal in the server's own words on the photo that caused it. Photos
// can be removed, moved earlier or later with buttons (keyboard and screen readers included; no
// drag needed) and one is chosen as the cover. The post page sends the ready photos' ids in the
// order shown, with the cover's index.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api/client";
import type { StagedMedia } from "./api/types";
import { formatBytes } from "./ui";
import { discard, stage } from "./staging";

export const MAX_PHOTOS = 35;
/** What the backend takes: TikTok's JPEG and WebP as they are, PNG and HEIC converted to JPEG. */
export const PHOTO_ACCEPT = "image/jpeg,image/webp,image/png,image/heic,image/heif,.jpg,.jpeg,.webp,.png,.heic,.heif";
const CONCURRENT = 3;

type TileState =
  | { kind: "waiting" }
  | { kind: "uploading"; sent: number; total: number }
  | { kind: "checking" }
  | { kind: "ready"; mediaId: string; note: string | null }
  | { kind: "refused"; message: string; reason?: string }
  | { kind: "failed"; message: string };

interface Tile {
  key: string;
  file: File;
  preview: string;
  state: TileState;
}

export interface PhotoSelection {
  mediaIds: string[];
  coverIndex: number;
  /** Why the photos cannot be posted yet, in words for the list next to the Post button. */
  blockers: string[];
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

const TYPE_NAMES: Record<string, string> = { "image/png": "PNG", "image/heic": "HEIC", "image/heif": "HEIF" };

/** What the server did to a PNG or HEIC photo, in words (it converts them, TikTok takes neither). */
export function conversionNote(media: StagedMedia): string | null {
  if (!media.converted_from) return null;
  const from = TYPE_NAMES[media.converted_from] ?? media.converted_from;
  const resized = media.resized_from ? `, resized from ${media.resized_from.width}x${media.resized_from.height} to ${media.width}x${media.height} px` : "";
  return `Converted from ${from} to JPEG${resized}.`;
}

function outcome(exc: unknown): TileState {
  if (exc instanceof ApiError && exc.status >= 400 && exc.status < 500 && exc.status !== 401 && exc.status !== 429) {
    return { kind: "refused", message: sentence(exc.message), reason: exc.reason };
  }
  const message = exc instanceof ApiError ? exc.plain : exc instanceof Error ? exc.message : String(exc);
  return { kind: "failed", message };
}

/** The cover: the one the user chose while it is there and ready, else the first ready photo. */
function coverOf(tiles: Tile[], chosen: string | null): string | null {
  const ready = tiles.filter((t) => t.state.kind === "ready");
  return (ready.find((t) => t.key === chosen) ?? ready[0])?.key ?? null;
}

function selection(tiles: Tile[], coverKey: string | null): PhotoSelection {
  const blockers: string[] = [];
  const ready = tiles.filter((t) => t.state.kind === "ready");
  if (tiles.length === 0) blockers.push("Add at least one photo.");
  const busy = tiles.filter((t) => ["waiting", "uploading", "checking"].includes(t.state.kind)).length;
  if (busy) blockers.push(busy === 1 ? "Wait for the photo to finish uploading." : `Wait for ${busy} photos to finish uploading.`);
  const bad = tiles.filter((t) => t.state.kind === "refused" || t.state.kind === "failed").length;
  if (bad) blockers.push(bad === 1 ? "Remove the photo that cannot be posted (or try it again)." : `Remove the ${bad} photos that cannot be posted (or try them again).`);
  const coverIndex = Math.max(0, ready.findIndex((t) => t.key === coverKey));
  return {
    mediaIds: ready.map((t) => (t.state as { mediaId: string }).mediaId),
    coverIndex,
    blockers,
  };
}

export function PhotoFiles({ onChange }: { onChange: (selection: PhotoSelection) => void }) {
  const [tiles, setTiles] = useState<Tile[]>([]);
  const [coverKey, setCoverKey] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [tooMany, setTooMany] = useState<string | null>(null);
  const [focusAfter, setFocusAfter] = useState<{ key: string; control: string } | null>(null);
  const running = useRef(0);
  const queue = useRef<Tile[]>([]);
  const aborts = useRef(new Map<string, AbortController>());
  const tilesRef = useRef<Tile[]>([]);
  tilesRef.current = tiles;

  const update = (key: string, state: TileState) => setTiles((list) => list.map((t) => (t.key === key ? { ...t, state } : t)));

  const pump = () => {
    while (running.current < CONCURRENT && queue.current.length > 0) {
      const tile = queue.current.shift()!;
      const controller = new AbortController();
      aborts.current.set(tile.key, controller);
      running.current += 1;
      void stage("photo", tile.file, (e) => update(tile.key, e.kind === "checking" ? { kind: "checking" } : { kind: "uploading", sent: e.sent, total: e.total }), controller.signal)
        .then(
          (media) => {
            update(tile.key, { kind: "ready", mediaId: media.id, note: conversionNote(media) });
          },
          (exc) => {
            if (exc instanceof DOMException && exc.name === "AbortError") return;
            update(tile.key, outcome(exc));
          },
        )
        .finally(() => {
          aborts.current.delete(tile.key);
          running.current -= 1;
          pump();
        });
    }
  };

  const enqueue = (tile: Tile) => {
    queue.current.push(tile);
    pump();
  };

  const add = (files: FileList | File[] | null) => {
    if (!files) return;
    const chosen = Array.from(files);
    const room = MAX_PHOTOS - tilesRef.current.length;
    const taken = chosen.slice(0, Math.max(0, room));
    setTooMany(chosen.length > taken.length ? `A photo post has at most ${MAX_PHOTOS} photos: ${chosen.length - taken.length} of the chosen files were not added.` : null);
    const added = taken.map((file) => ({ key: crypto.randomUUID(), file, preview: URL.createObjectURL(file), state: { kind: "waiting" } as TileState }));
    setTiles((list) => [...list, ...added]);
    added.forEach(enqueue);
    if (added.length) setAnnouncement(`${added.length} ${added.length === 1 ? "photo" : "photos"} added; uploading.`);
  };

  const position = (key: string) => tilesRef.current.findIndex((t) => t.key === key);

  const move = (key: string, by: -1 | 1) => {
    const from = position(key);
    const to = from + by;
    if (from < 0 || to < 0 || to >= tiles.length) return;
    const next = tiles.slice();
    const [tile] = next.splice(from, 1);
    next.splice(to, 0, tile!);
    setTiles(next);
    setAnnouncement(`Photo ${from + 1} moved to position ${to + 1} of ${next.length}.`);
    setFocusAfter({ key, control: by < 0 ? "earlier" : "later" });
  };

  const remove = (key: string) => {
    const index = position(key);
    const tile = tiles[index];
    if (!tile) return;
    aborts.current.get(key)?.abort();
    queue.current = queue.current.filter((t) => t.key !== key);
    if (tile.state.kind === "ready") discard(tile.state.mediaId);
    URL.revokeObjectURL(tile.preview);
    const next = tiles.filter((t) => t.key !== key);
    setTiles(next);
    setAnnouncement(`Photo ${index + 1} removed.`);
    const neighbour = next[Math.min(index, next.length - 1)];
    setFocusAfter(neighbour ? { key: neighbour.key, control: "remove" } : { key: "", control: "picker" });
  };

  const retry = (key: string) => {
    const tile = tiles.find((t) => t.key === key);
    if (!tile) return;
    update(key, { kind: "waiting" });
    enqueue(tile);
  };

  const cover = coverOf(tiles, coverKey);
  useEffect(() => onChange(selection(tiles, cover)), [tiles, cover]);

  // Focus stays with the control the user pressed, moved with its photo (the move buttons are
  // aria-disabled at the ends, not disabled, so they keep the focus), or goes to the neighbour's.
  useEffect(() => {
    if (!focusAfter) return;
    const { key, control } = focusAfter;
    setFocusAfter(null);
    document.getElementById(control === "picker" ? "photo-files" : `photo-${control}-${key}`)?.focus();
  }, [focusAfter]);

  useEffect(
    () => () => {
      aborts.current.forEach((c) => c.abort());
      tilesRef.current.forEach((t) => URL.revokeObjectURL(t.preview));
    },
    [],
  );

  const [over, setOver] = useState(false);
  return (
    <div class="photo-files">
      <div
        class={`field drop-zone${over ? " is-over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          add(e.dataTransfer?.files ?? null);
        }}
      >
        <label for="photo-files">Photo files</label>
        <input
          id="photo-files"
          type="file"
          multiple
          accept={PHOTO_ACCEPT}
          aria-describedby="photo-files-hint"
          onChange={(e) => {
            const input = e.currentTarget as HTMLInputElement;
            add(input.files);
            input.value = "";
          }}
        />
        <p class="hint" id="photo-files-hint">
          JPEG or WebP, up to {MAX_PHOTOS} photos of at most 20 MB and 1080p (1920 × 1080 px, either way round). PNG and HEIC photos are converted
          to JPEG and scaled to fit. You can also drop files here. Each photo is uploaded and checked as soon as you add it.
        </p>
        {tooMany && (
          <p class="field-error" role="alert">
            {tooMany}
          </p>
        )}
      </div>
      <p class="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {tiles.length > 0 && (
        <fieldset class="photo-tiles-set">
          <legend>Your photos, in the order TikTok will show them</legend>
          <ol class="photo-tiles">
            {tiles.map((tile, i) => (
              <PhotoTile
                key={tile.key}
                tile={tile}
                index={i}
                count={tiles.length}
                cover={cover === tile.key}
                onCover={() => {
                  setCoverKey(tile.key);
                  setAnnouncement(`Photo ${i + 1} is the cover.`);
                }}
                onMove={(by) => move(tile.key, by)}
                onRemove={() => remove(tile.key)}
                onRetry={() => retry(tile.key)}
              />
            ))}
          </ol>
        </fieldset>
      )}
    </div>
  );
}

function PhotoTile({ tile, index, count, cover, onCover, onMove, onRemove, onRetry }: {
  tile: Tile;
  index: number;
  count: number;
  cover: boolean;
  onCover: () => void;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
  onRetry: () => void;
}) {
  const n = index + 1;
  const { state, key } = tile;
  const statusId = `photo-status-${key}`;
  const percent = state.kind === "uploading" && state.total ? Math.floor((state.sent / state.total) * 100) : 0;
  return (
    <li class={`photo-tile is-${state.kind}`} aria-labelledby={`photo-name-${key}`} aria-describedby={statusId}>
      <img src={tile.preview} alt={`Photo ${n}${cover ? " (cover)" : ""}: ${tile.file.name}`} />
      <p class="photo-name" id={`photo-name-${key}`}>
        <strong>Photo {n}</strong> <span class="muted">{tile.file.name}</span>
      </p>
      <div id={statusId} class="photo-status">
        {state.kind === "waiting" && <p class="hint">Waiting to upload…</p>}
        {state.kind === "uploading" && (
          <>
            <progress max={state.total || 1} value={state.sent} aria-label={`Upload of photo ${n}`} aria-valuetext={`${percent} % (${formatBytes(state.sent)} of ${formatBytes(state.total)})`} />
            <p class="hint">
              Uploading: {percent} % of {formatBytes(state.total)}
            </p>
          </>
        )}
        {state.kind === "checking" && <p class="hint">Checking the photo…</p>}
        {state.kind === "ready" && (
          <p class="ok-text">
            Ready.{state.note ? ` ${state.note}` : ""}
          </p>
        )}
        {state.kind === "refused" && (
          <p class="field-error" role="alert">
            {state.message}
          </p>
        )}
        {state.kind === "failed" && (
          <p class="field-error" role="alert">
            {state.message}
          </p>
        )}
      </div>
      <div class="photo-actions">
        <div class="choice">
          <input type="radio" name="photo-cover" id={`photo-cover-${key}`} checked={cover} disabled={state.kind !== "ready"} onChange={onCover} />
          <label for={`photo-cover-${key}`}>Cover{count > 1 ? ` (photo ${n})` : ""}</label>
        </div>
        <button type="button" id={`photo-earlier-${key}`} aria-disabled={index === 0 ? "true" : undefined} aria-label={`Move photo ${n} earlier`} onClick={() => index > 0 && onMove(-1)}>
          <span aria-hidden="true">← </span>Earlier
        </button>
        <button type="button" id={`photo-later-${key}`} aria-disabled={index === count - 1 ? "true" : undefined} aria-label={`Move photo ${n} later`} onClick={() => index < count - 1 && onMove(1)}>
          Later<span aria-hidden="true"> →</span>
        </button>
        {state.kind === "failed" && (
          <button type="button" onClick={onRetry} aria-label={`Try photo ${n} again`}>
            Try again
          </button>
        )}
        <button type="button" id={`photo-remove-${key}`} aria-label={`Remove photo ${n}`} onClick={onRemove}>
          Remove
        </button>
      </div>
    </li>
  );
}
