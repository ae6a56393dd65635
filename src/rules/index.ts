// The rule registry. Flow rules read the dataflow engine's events; directive
// rules are reported while reading directives and suppressions.
import { badDirective } from './bad-directive.js';
import { cKeepsGoPointer } from './c-keeps-go-pointer.js';
import { cAnalyzer } from './c-analyzer.js';
import { cCrash } from './c-crash.js';
import { cgoHandle } from './cgo-handle.js';
import { cOverflow } from './c-overflow.js';
import { cSliceBounds } from './c-slice-bounds.js';
import { doubleFree } from './double-free.js';
import { elementSize } from './element-size.js';
import { exportGoPointer } from './export-go-pointer.js';
import { finalizerKeepalive } from './finalizer-keepalive.js';
import { finalizerStillSet } from './finalizer-still-set.js';
import { goPointerInCMemory } from './go-pointer-in-c-memory.js';
import { freeBorrowed } from './free-borrowed.js';
import { freeNonHeap } from './free-nonheap.js';
import { hiddenPointer } from './hidden-pointer.js';
import { invalidAccess } from './invalid-access.js';
import { leak } from './leak.js';
import { mismatchedFree } from './mismatched-free.js';
import { pinner } from './pinner.js';
import { protocol } from './protocol.js';
import type { FlowRule, RuleMeta } from './rule.js';
import { sliceHeader } from './slice-header.js';
import { unboundedCWrite } from './unbounded-c-write.js';
import { unpinnedGoPointer } from './unpinned-go-pointer.js';
import { unusedIgnore } from './unused-ignore.js';
import { useAfterFree } from './use-after-free.js';

export const FLOW_RULES: readonly FlowRule[] = [
  leak,
  doubleFree,
  useAfterFree,
  freeNonHeap,
  mismatchedFree,
  unpinnedGoPointer,
  goPointerInCMemory,
  exportGoPointer,
  cKeepsGoPointer,
  hiddenPointer,
  sliceHeader,
  cOverflow,
  unboundedCWrite,
  elementSize,
  cSliceBounds,
  freeBorrowed,
  protocol,
  finalizerKeepalive,
  finalizerStillSet,
  cgoHandle,
  pinner,
];

export const ALL_RULES: readonly RuleMeta[] = [...FLOW_RULES.map((r) => r.meta), cAnalyzer, invalidAccess, cCrash, badDirective, unusedIgnore];

export function ruleById(id: string): RuleMeta | undefined {
  return ALL_RULES.find((r) => r.id === id);
}
