// Live C memory at exit as a pprof profile (profile.proto, gzipped): two
// sample values, objects and bytes, by Go allocation stack, so that
// `go tool pprof -top` and the pprof web UI read it like a heap profile.
import { gzipSync } from 'node:zlib';
import { Function as PFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { StackFrame } from '../findings/finding.js';

export interface ProfileEntry {
  /** Leaf first, as Go stacks are printed. */
  frames: StackFrame[];
  bytes: number;
  objects: number;
}

export function encodePprof(entries: ProfileEntry[], timeNanos: number, comment = 'C memory live at exit, by Go allocation stack (cgoguard trace)'): Buffer {
  const strings = new StringTable();
  const functions = new Map<string, PFunction>();
  const locations = new Map<string, Location>();
  const fnOf = (f: StackFrame) => {
    const key = `${f.fn}\0${f.file ?? ''}`;
    let fn = functions.get(key);
    if (!fn) {
      fn = new PFunction({ id: functions.size + 1, name: strings.dedup(f.fn), systemName: strings.dedup(f.fn), filename: strings.dedup(f.file ?? '') });
      functions.set(key, fn);
    }
    return fn;
  };
  const locOf = (f: StackFrame) => {
    const key = `${f.fn}\0${f.file ?? ''}\0${f.line ?? 0}`;
    let loc = locations.get(key);
    if (!loc) {
      loc = new Location({ id: locations.size + 1, line: [new Line({ functionId: fnOf(f).id, line: f.line ?? 0 })] });
      locations.set(key, loc);
    }
    return loc;
  };
  const samples = entries.map((e) => new Sample({ locationId: e.frames.map((f) => locOf(f).id), value: [e.objects, e.bytes] }));
  const profile = new Profile({
    sampleType: [new ValueType({ type: strings.dedup('inuse_objects'), unit: strings.dedup('count') }), new ValueType({ type: strings.dedup('inuse_space'), unit: strings.dedup('bytes') })],
    sample: samples,
    location: [...locations.values()],
    function: [...functions.values()],
    stringTable: strings,
    timeNanos,
    periodType: new ValueType({ type: strings.dedup('space'), unit: strings.dedup('bytes') }),
    period: 1,
    defaultSampleType: strings.dedup('inuse_space'),
    comment: [strings.dedup(comment)],
  });
  return gzipSync(profile.encode());
}
