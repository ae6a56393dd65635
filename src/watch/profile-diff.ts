// Two heap profiles of a production build, and the Go stacks whose C bytes
// in use grew between them: a list for the alert, and a diff profile
// (values: new minus old) that `go tool pprof -top` reads.
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import type { StackFrame } from '../findings/finding.js';
import { encodePprof } from '../report/pprof.js';

export interface StackUsage {
  /** Leaf first. */
  frames: StackFrame[];
  bytes: number;
  objects: number;
}

/** In-use objects and bytes by stack, from a gzipped (or plain) profile.proto. */
export function inuseByStack(data: Buffer): Map<string, StackUsage> {
  const raw = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  const p = Profile.decode(raw);
  const str = (i: unknown) => p.stringTable.strings[Number(i)] ?? '';
  const types = p.sampleType.map((t) => str(t.type));
  const bytesAt = types.indexOf('inuse_space');
  const objectsAt = types.indexOf('inuse_objects');
  if (bytesAt < 0) throw new Error('the profile has no inuse_space values (not a heap profile)');
  const fns = new Map(p.function.map((f) => [Number(f.id), f]));
  const locs = new Map(p.location.map((l) => [Number(l.id), l]));
  const out = new Map<string, StackUsage>();
  for (const s of p.sample) {
    const frames: StackFrame[] = [];
    for (const id of s.locationId) {
      const loc = locs.get(Number(id));
      // Inlined calls come first in a location's lines, as in Go's profiles.
      for (const line of loc?.line ?? []) {
        const fn = fns.get(Number(line.functionId));
        frames.push({ fn: str(fn?.name), file: str(fn?.filename), line: Number(line.line) });
      }
    }
    const key = frames.map((f) => `${f.fn}@${f.file}:${f.line}`).join('\n');
    const u = out.get(key) ?? { frames, bytes: 0, objects: 0 };
    u.bytes += Number(s.value[bytesAt] ?? 0);
    u.objects += objectsAt >= 0 ? Number(s.value[objectsAt] ?? 0) : 0;
    out.set(key, u);
  }
  return out;
}

/** Stacks whose in-use bytes grew from `before` to `after`, most first. */
export function grownStacks(before: Map<string, StackUsage>, after: Map<string, StackUsage>): StackUsage[] {
  const out: StackUsage[] = [];
  for (const [key, a] of after) {
    const b = before.get(key);
    const bytes = a.bytes - (b?.bytes ?? 0);
    if (bytes > 0) out.push({ frames: a.frames, bytes, objects: a.objects - (b?.objects ?? 0) });
  }
  return out.sort((x, y) => y.bytes - x.bytes);
}

/** The difference of two profiles as a profile: every stack with its change, grown or shrunk. */
export function diffProfile(before: Map<string, StackUsage>, after: Map<string, StackUsage>, timeNanos: number): Buffer {
  const entries: StackUsage[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const a = after.get(key);
    const b = before.get(key);
    const bytes = (a?.bytes ?? 0) - (b?.bytes ?? 0);
    const objects = (a?.objects ?? 0) - (b?.objects ?? 0);
    if (bytes || objects) entries.push({ frames: (a ?? b)!.frames, bytes, objects });
  }
  return encodePprof(entries, timeNanos, 'C memory in use: change between two profiles (cgoguard watch)');
}

/** "fn (file:line) ← caller ← ...": the user's frames of a stack, leaf first, without the runtime's. */
export function describeStack(frames: StackFrame[], depth = 4): string {
  const own = frames.filter((f) => !/^runtime\.|^runtime\/cgo/.test(f.fn));
  const shown = (own.length ? own : frames).slice(0, depth);
  return shown.map((f, i) => (i === 0 ? `${f.fn} (${f.file ? `${f.file.split('/').slice(-2).join('/')}:${f.line}` : '?'})` : f.fn)).join(' ← ');
}
