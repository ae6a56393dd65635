// What the C ownership module offers other modules: making an object that
// must be released (C memory, or a resource with the same lifecycle such as a
// cgo.Handle), and releasing one. Modules reach it through Engine.domain().
import type { Expr } from '../../syntax/goast.js';
import type { Resource, State, Step, Val } from '../../flow/state.js';

export const OWNERSHIP = 'ownership';

export interface NewObject {
  nullable: boolean;
  releasedBy: string[];
  steps?: Step[];
  bytes?: number;
  /** Not C memory but a resource a module declared (its findings use that module's rule). */
  resource?: Resource;
  /** The fact that makes it the caller's rests on a guess (an inferred contract): how sure it is. */
  guess?: 'medium' | 'low';
  /** Error outputs of the same call: when one is set, the call failed and this result is NULL. */
  nullWhenSet?: string[];
}

export interface ReleaseSite {
  by: string; // the C function that releases (free, realloc, sqlite3_free); '' when not known
  name: string; // how the code names the pointer
  pos: number;
  end: number;
  loc?: Expr; // the argument expression, to give an unknown pointer an identity
  via?: string; // Go helper that releases it
  viaSteps?: Step[];
}

export interface Ownership {
  /** A new object the program must release, made at `pos`. */
  newObject(st: State, pos: number, end: number, what: string, opts: NewObject): Val;
  /** A release: C.free, a contract's releaser, a helper that frees, a handle's Delete. Returns the object released, if it was. */
  release(st: State, v: Val, r: ReleaseSite): string | undefined;
}

declare module '../../flow/state.js' {
  interface ObjFacets {
    /** Functions allowed to release it; empty when not known. */
    releasedBy?: string[];
    /** Memory a library only lends: not the caller's to free. */
    borrowed?: boolean;
    /** The object it was borrowed from: released with it. */
    borrowedFrom?: string;
    /** C memory a C function handed out without saying who owns it: never reported as lost. */
    foreign?: boolean;
    /** A C allocation a condition showed to have no elements (len(x) == 0): not worth reporting as lost. */
    empty?: boolean;
    /** Not C memory but a resource with the same lifecycle, named by the module that makes it. */
    resource?: Resource;
    /** Its ownership was inferred, not told: findings about it are no surer than this. */
    guess?: 'medium' | 'low';
    /** Error outputs of the call that made it: when one is set, it is NULL. */
    nullWhenSet?: string[];
    /** An error a call wrote to an out parameter: set only when the call failed. */
    errorOutput?: boolean;
  }
}
