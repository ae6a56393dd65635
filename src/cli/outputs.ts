// The files a command writes its reports to (-o, --html, --junit, --pprof,
// --events, the leak report): checked before any work starts, so that a long
// run never ends in "cannot write", and written atomically without changing
// what the user set on an existing file (its mode).
import { chmodSync, constants, accessSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reason } from '../workspace/errno.js';

export class OutputError extends Error {}

export interface OutputTarget {
  /** The option that named it, for the message: "-o", "--html"... */
  flag: string;
  /** As the user wrote it. */
  given: string;
  /** Absolute. */
  file: string;
}

/**
 * Refuses, with one line naming the option, an output that cannot be
 * written: a folder, a file in a folder that does not exist or cannot be
 * written, a read-only file (unless `replaceReadOnly`), or one file named by
 * two options.
 */
export function checkOutputs(targets: OutputTarget[], replaceReadOnly: boolean): void {
  const seen = new Map<string, OutputTarget>();
  for (const t of targets) {
    const prev = seen.get(t.file);
    if (prev) throw new OutputError(`${prev.flag} and ${t.flag} name the same file (${t.given})`);
    seen.set(t.file, t);
    if (t.given.endsWith('/') || t.given.endsWith(path.sep)) throw new OutputError(`${t.flag} ${t.given}: is a folder; give a file name`);
    let st;
    try {
      st = statSync(t.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(`${t.flag} ${t.given}: ${reason(e)}`);
    }
    if (st?.isDirectory()) throw new OutputError(`${t.flag} ${t.given}: is a folder; give a file name`);
    // A device or a pipe (/dev/null, /dev/stdout) is written to as it is.
    if (st && !st.isFile()) continue;
    // Root may write anything: the mode bits say what the user meant.
    if (st && (st.mode & 0o222) === 0 && !replaceReadOnly) throw new OutputError(`${t.flag} ${t.given}: the file is read-only (pass --force to replace it)`);
    const dir = path.dirname(t.file);
    let dst;
    try {
      dst = statSync(dir);
    } catch (e) {
      throw new OutputError(`${t.flag} ${t.given}: cannot use folder ${path.dirname(t.given)}: ${reason(e)}`);
    }
    if (!dst.isDirectory()) throw new OutputError(`${t.flag} ${t.given}: ${path.dirname(t.given)} is not a folder`);
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw new OutputError(`${t.flag} ${t.given}: cannot write in folder ${path.dirname(t.given)}: ${reason(e)}`);
    }
  }
}

/**
 * Writes a file atomically: a temporary file next to it, then a rename. An
 * existing file keeps its mode; a device or pipe is written to directly
 * (renaming over /dev/null would replace it). A failure is a one-line OutputError.
 */
export function writeOutput(file: string, text: string | Buffer): void {
  let special = false;
  try {
    special = !statSync(file).isFile();
  } catch {
    // a new file
  }
  if (special) {
    try {
      writeFileSync(file, text);
    } catch (e) {
      throw new OutputError(`cannot write ${file}: ${reason(e)}`);
    }
    return;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    let mode: number | undefined;
    try {
      mode = statSync(file).mode & 0o7777;
    } catch {
      // a new file: the umask decides
    }
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new OutputError(`cannot write ${file}: ${reason(e)}`);
  }
}
