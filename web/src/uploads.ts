// The file being uploaded for a post: kept in memory while the app runs, and described in
// localStorage so that after a reload the user can pick the same file and the upload resumes.

export interface PendingUpload {
  postId: string;
  name: string;
  size: number;
  lastModified: number;
  type: string;
}

const files = new Map<string, File>();
const KEY = "publisher.uploads";

function readAll(): PendingUpload[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) || "[]") as unknown;
    return Array.isArray(parsed) ? (parsed as PendingUpload[]) : [];
  } catch {
    return [];
  }
}

function writeAll(items: PendingUpload[]): void {
  localStorage.setItem(KEY, JSON.stringify(items.slice(-10)));
}

export function remember(postId: string, file: File): void {
  files.set(postId, file);
  const entry: PendingUpload = {
    postId,
    name: file.name,
    size: file.size,
    lastModified: file.lastModified,
    type: file.type,
  };
  writeAll([...readAll().filter((p) => p.postId !== postId), entry]);
}

export function pending(postId: string): PendingUpload | undefined {
  return readAll().find((p) => p.postId === postId);
}

export function fileFor(postId: string): File | undefined {
  return files.get(postId);
}

export function attach(postId: string, file: File): void {
  files.set(postId, file);
}

export function forget(postId: string): void {
  files.delete(postId);
  writeAll(readAll().filter((p) => p.postId !== postId));
}

/** Why ``file`` is not the one this post's upload started with, or null when it matches. */
export function mismatch(postId: string, file: File, expectedSize: number): string | null {
  if (file.size !== expectedSize) {
    return `This file is ${file.size.toLocaleString()} bytes; the upload started with a file of ${expectedSize.toLocaleString()} bytes. Choose the same file.`;
  }
  const known = pending(postId);
  if (known && (known.name !== file.name || known.lastModified !== file.lastModified)) {
    return `This is not the file the upload started with (${known.name}). Choose that file again.`;
  }
  return null;
}
