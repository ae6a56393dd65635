// The rule registry. The dataflow domains (one folder each: a domain.ts that
// registers with the interpreter, and one file per rule with its metadata and
// wording) are listed in the order their hooks run. The other rules are
// reported elsewhere: clang's findings, run-time findings, directives.
import type { DomainModule } from '../flow/hooks.js';
import { badDirective } from './bad-directive.js';
import { cAnalyzer } from './c-analyzer.js';
import { cCrash } from './c-crash.js';
import { finalizers } from './finalizers/domain.js';
import { finalizerKeepalive } from './finalizers/finalizer-keepalive.js';
import { finalizerStillSet } from './finalizers/finalizer-still-set.js';
import { missingFinalizer } from './finalizers/missing-finalizer.js';
import { cKeepsGoPointer } from './gomemory/c-keeps-go-pointer.js';
import { goMemory } from './gomemory/domain.js';
import { exportGoPointer } from './gomemory/export-go-pointer.js';
import { goPointerInCMemory } from './gomemory/go-pointer-in-c-memory.js';
import { hiddenPointer } from './gomemory/hidden-pointer.js';
import { sliceHeader } from './gomemory/slice-header.js';
import { unpinnedGoPointer } from './gomemory/unpinned-go-pointer.js';
import { cgoHandle } from './handles/cgo-handle.js';
import { handles } from './handles/domain.js';
import { pinner } from './handles/pinner.js';
import { invalidAccess } from './invalid-access.js';
import { ownership } from './ownership/domain.js';
import { doubleFree } from './ownership/double-free.js';
import { freeBorrowed } from './ownership/free-borrowed.js';
import { freeNonHeap } from './ownership/free-nonheap.js';
import { leak } from './ownership/leak.js';
import { mismatchedFree } from './ownership/mismatched-free.js';
import { useAfterFree } from './ownership/use-after-free.js';
import { protocols } from './protocol/domain.js';
import { protocol } from './protocol/protocol.js';
import type { RuleMeta } from './rule.js';
import { cOverflow } from './sizes/c-overflow.js';
import { cSliceBounds } from './sizes/c-slice-bounds.js';
import { sizes } from './sizes/domain.js';
import { elementSize } from './sizes/element-size.js';
import { lengthUnits } from './sizes/length-units.js';
import { unboundedCWrite } from './sizes/unbounded-c-write.js';
import { unusedIgnore } from './unused-ignore.js';

/**
 * The dataflow domains, in the order their hooks run. The order matters where
 * a module takes charge of something another would otherwise do: handles and
 * protocols before ownership (a handle given to C, a handle a contract
 * creates), Go memory before handles (a Pin marks memory pinned before the
 * Pinner's own pins are counted).
 */
export const DOMAINS: readonly DomainModule[] = [goMemory, sizes, handles, protocols, ownership, finalizers];

const FLOW_RULES: readonly RuleMeta[] = [
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
  lengthUnits,
  freeBorrowed,
  protocol,
  finalizerKeepalive,
  finalizerStillSet,
  missingFinalizer,
  cgoHandle,
  pinner,
].map((r) => r.meta);

export const ALL_RULES: readonly RuleMeta[] = [...FLOW_RULES, cAnalyzer, invalidAccess, cCrash, badDirective, unusedIgnore];

export function ruleById(id: string): RuleMeta | undefined {
  return ALL_RULES.find((r) => r.id === id);
}
