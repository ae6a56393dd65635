// The C side's declarations as the analysis keeps them: functions with what
// their bodies were found to do, types, values and macros.
import type { Contract } from './contracts.js';
import type { CType, CTypeScope } from './ctypes.js';

/** How a function writes through one of its pointer arguments. */
export type CWrite =
  /** No bound the caller controls: strcpy, sprintf, gets, memcpy with a length from elsewhere. */
  | { k: 'unbounded'; via: string; bytes?: number }
  /** Bounded by another argument (memcpy(dst, src, n) with n a parameter). */
  | { k: 'bounded'; by: number; via: string }
  /** A known number of bytes (memset(p, 0, 64), strcpy(p, "overflow!")). */
  | { k: 'fixed'; bytes: number; via: string }
  /**
   * The size of a type (memset(e, 0, sizeof(*e)), memcpy(d, s, sizeof(T))): as many bytes as that
   * type takes, whether or not its size is known here. `type` is absent when the sized expression's
   * type could not be told.
   */
  | { k: 'sized'; type?: CType; via: string };

export interface CParam {
  name?: string;
  type: CType;
}

export interface CFunc {
  name: string;
  params: CParam[];
  ret: CType;
  defined: boolean;
  /** Where it was read: offset in the source text, and which source (the preamble or a .c file). */
  offset: number;
  source: string;
  /** Argument indexes the body frees (directly or through other C functions). */
  frees: Set<number>;
  /** Argument indexes the body stores where they outlive the call. */
  retains: Set<number>;
  /**
   * Argument indexes the body hands to a function it cannot see that is named
   * like a releaser (virTypedParamsFree, g_object_unref): what it is given is no
   * longer ours to track, though nothing says it is freed.
   */
  mayRelease?: Set<number>;
  /**
   * What the result is: freshly allocated; static storage no one may free (a literal, a global
   * array, &global); borrowed (derived from an argument or a global pointer); or not known.
   */
  returns: 'owned' | 'static' | 'borrowed' | 'unknown';
  /** The argument every return hands back unchanged (the result aliases it). */
  returnsArg?: number;
  /** For an owned result: its releasers, when not libc's free (the body returns sqlite3_mprintf's result). */
  releasedBy?: string[];
  /** For freed arguments: the releaser, when not libc's free. */
  freedBy?: Map<number, string>;
  /** How the body writes through pointer arguments. */
  writes: Map<number, CWrite>;
  /** Pointer arguments the body dereferences (itself or through callees) and never tests for NULL: NULL crashes it. */
  derefs?: Set<number>;
  /** Out parameters the body has a callee fill with memory to release (a wrapper forwarding `sqlite3 **ppDb`). */
  writesOwned?: { param: number; releasedBy: string[]; when?: 'success' | 'failure'; via: string }[];
}

export interface CModel extends CTypeScope {
  funcs: Map<string, CFunc>;
  /** Object-like macros, enumerators and global variables: values, not functions. */
  values: Set<string>;
  /** Global variables and their types. */
  globals: Map<string, CType>;
  /** Names of function-like macros (callable in C, not from Go). */
  macros: Set<string>;
  /** Contracts that C bodies' summaries take into account. */
  contractOf?: (name: string) => Contract | undefined;
}

export function emptyCModel(): CModel {
  return { funcs: new Map(), typedefs: new Map(), structs: new Map(), values: new Set(), globals: new Map(), macros: new Set() };
}
