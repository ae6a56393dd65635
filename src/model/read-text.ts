// A file's text (or its first bytes), or undefined when it cannot be read: for
// inputs whose absence is reported elsewhere (discovery says which files are
// unreadable).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The first `bytes` bytes of a file as text, or undefined when it cannot be read. */
export function readPrefix(path: string, bytes: number): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(bytes);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, bytes, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
