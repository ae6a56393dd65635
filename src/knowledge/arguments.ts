// What a C function does with the arguments of one call, as far as the tool
// knows: frees them, keeps them (takes ownership), or only uses them during
// the call. The facts come from a contract, the function's C body, or, for a
// function we know nothing else about, a name every convention reads as a
// releaser (memory handed to it is no longer ours to track).
import type { CFunc } from '../model/cdecls.js';
import { looksLikeReleaser, looksLikeTaker } from '../model/cnames.js';
import type { Contract } from '../model/contracts.js';
import type { Resolver } from '../model/resolve.js';
import { stripConversions } from '../syntax/exprs.js';
import { NO_VAR, type Expr } from '../syntax/goast.js';

export interface ArgumentEffects {
  /** Arguments the call releases. */
  released: Set<number>;
  /** Arguments pointing to a pointer whose memory the call releases, setting that pointer to NULL (`releases *P`). */
  releasedThrough: Set<number>;
  /** Arguments the call keeps or takes over. */
  moved: Set<number>;
  /** Arguments handed over with a destructor function (`takes P with destructor D`), and that destructor. */
  destructors: { param: number; destructor: string }[];
}

export function argumentEffects(name: string, contract: Contract | undefined, cfn: CFunc | undefined, args: readonly Expr[], resolver: Resolver): ArgumentEffects {
  const moved = new Set<number>();
  const released = new Set<number>();
  const releasedThrough = new Set<number>(contract?.releasesPointee);
  if (contract) {
    contract.releases.forEach((i) => released.add(i));
    contract.takes.forEach((i) => moved.add(i));
  }
  cfn?.frees.forEach((i) => released.add(i));
  cfn?.retains.forEach((i) => moved.add(i));
  // Handed on, in C, to a function named like a releaser: no longer ours to track.
  cfn?.mayRelease?.forEach((i) => moved.add(i));
  // An unknown function named like a releaser or a taker: what it gets is no longer ours to track.
  // A contract only inferred (from a header's names, or usage) says nothing of the arguments: the name still counts.
  if ((!contract || contract.evidence) && !cfn?.defined && (looksLikeReleaser(name) || looksLikeTaker(name))) args.forEach((_, i) => moved.add(i));
  // `takes text with destructor destroy`: a destructor function takes the memory, SQLITE_STATIC/TRANSIENT lend it.
  const destructors: ArgumentEffects['destructors'] = [];
  for (const t of contract?.takesWithDestructor ?? []) {
    const destructor = destructorName(args[t.destructor], resolver);
    if (!destructor) continue;
    moved.add(t.param);
    destructors.push({ param: t.param, destructor });
  }
  return { released, releasedThrough, moved, destructors };
}

/** The C function passed as a destructor argument (C.free, (*[0]byte)(C.sqlite3_free)), if one is. */
function destructorName(e: Expr | undefined, resolver: Resolver): string | undefined {
  const x = e && stripConversions(e);
  if (x?.k === 'sel' && x.x.k === 'ident' && x.x.v === NO_VAR && x.x.name === 'C' && resolver.cName(x.name) === 'func') return x.name;
  return undefined;
}
