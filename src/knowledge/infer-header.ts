// Ownership facts inferred from a library's headers: each function's
// declaration and the comment that documents it. Three sources, each kept as
// evidence with the header line it rests on:
//
//   doc phrases   "must be freed with git_repository_free", "do not free",
//                 "(transfer full)", "owned by the repository";
//   naming        a family of functions on one type, paired by name and type:
//                 rocksdb_options_create returns rocksdb_options_t *, and
//                 rocksdb_options_destroy takes one, so the first makes what
//                 the second releases (constructors by verb or by an out
//                 parameter T **, releasers by verb and a single pointer);
//   conventions   `char **errptr` filled with an error message on failure,
//                 an out parameter `GError **error`.
//
// A fact needs agreeing evidence: a phrase and a family that disagree give no
// fact, and a family alone is a likely reading, not a certainty (medium).
import { isErrorTypeName } from '../model/cnames.js';
import { parseContract, type Contract } from '../model/contracts.js';
import { docClaim, docSections, type DocClaim } from './doc-phrases.js';
import { scanHeader, type HeaderDecl, type HeaderParam } from './header-scan.js';
import type { HeaderFile } from './header-files.js';

export type FactSource = 'doc' | 'naming' | 'convention';

export interface InferredFact {
  /** The fact as a contract, with its confidence and evidence. */
  contract: Contract;
  /** The contract's text in the grammar users write (for `contracts infer`). */
  text: string;
  /** Which sources agreed. */
  sources: FactSource[];
}

interface Located {
  decl: HeaderDecl;
  file: string;
}

const PRIMITIVE = /^(void|char|gchar|guchar|signed char|unsigned char|short|int|long|long long|float|double|size_t|ssize_t|u?int\d+_t|u?int|gpointer|gconstpointer|uint8|byte|wchar_t|bool|_Bool|gboolean|gint|guint|gsize|gssize|Uint8|Sint8|Uint16|Sint16|Uint32|Sint32|Uint64|Sint64|function)$/;
/** Verbs of makers ('init' is left out: X_init mostly initialises memory the caller has). */
const CTOR = new Set(['new', 'create', 'open', 'alloc', 'allocate', 'dup', 'duplicate', 'copy', 'clone', 'load', 'make']);
const RELEASE_RANK: Record<string, number> = { free: 1, destroy: 2, delete: 3, unref: 4, release: 5, dispose: 6, cleanup: 7, close: 8 };
/** Words of getters and navigators: what they return belongs to something else. */
const GETTER = new Set(['get', 'peek', 'owner', 'parent', 'current', 'find', 'first', 'next', 'last', 'prev', 'borrow', 'static']);
/** Out parameters that receive an error message by convention. */
const ERROR_STRING = /(^|_|[a-z])(err|error)(ptr|msg|str|_msg|buf|_message|p|or)?$/i;

/** `SDL_CreateRGBSurface` → sdl create rgb surface; `rocksdb_options_destroy` → rocksdb options destroy. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .split('_')
    .filter(Boolean);
}

export function inferFromHeaders(files: HeaderFile[]): Map<string, InferredFact> {
  const decls = new Map<string, Located>();
  const pointerTypedefs = new Set<string>();
  for (const f of files) {
    const scanned = scanHeader(f.text);
    scanned.pointerTypedefs.forEach((t) => pointerTypedefs.add(t));
    for (const d of scanned.decls) if (!decls.has(d.name)) decls.set(d.name, { decl: d, file: f.display });
  }
  return new HeaderInference(decls, pointerTypedefs, files).run();
}

/** An object type (not a primitive) and how many pointers lead to it, counting a pointer typedef as one. */
interface TypeRef {
  base: string;
  pointers: number;
  isConst: boolean;
}

class HeaderInference {
  /** Releasers by the object type of their only pointer parameter. */
  private readonly releasers = new Map<string, { name: string; verb: string; param: number; nouns: string[] }[]>();
  /** Header-wide statements that error strings are malloc()ed (RocksDB's and LevelDB's errptr). */
  private readonly mallocErrors: boolean;

  constructor(
    private readonly decls: Map<string, Located>,
    private readonly pointerTypedefs: Set<string>,
    files: HeaderFile[],
  ) {
    this.mallocErrors = files.some((f) => /errptr[\s\S]{0,600}malloc|malloc[\s\S]{0,600}errptr/.test(f.text));
    for (const { decl } of decls.values()) {
      const words = nameWords(decl.name);
      const verb = words.find((w) => w in RELEASE_RANK);
      if (!verb) continue;
      const ptrs = decl.params.map((p, i) => ({ t: this.typeOf(p), i })).filter(({ t }) => t.pointers > 0);
      // One pointer to the object, or one to a handle that the releaser sets to NULL (DuckDB's duckdb_destroy_config(duckdb_config *)).
      if (ptrs.length !== 1 || PRIMITIVE.test(ptrs[0].t.base)) continue;
      if (ptrs[0].t.pointers !== 1 && !(ptrs[0].t.pointers === 2 && this.pointerTypedefs.has(ptrs[0].t.base))) continue;
      const list = this.releasers.get(ptrs[0].t.base) ?? [];
      list.push({ name: decl.name, verb, param: ptrs[0].i, nouns: words.filter((w) => w !== verb) });
      this.releasers.set(ptrs[0].t.base, list);
    }
  }

  private typeOf(p: { base: string; pointers: number; isConst: boolean }): TypeRef {
    return { base: p.base, pointers: p.pointers + (this.pointerTypedefs.has(p.base) ? 1 : 0), isConst: p.isConst };
  }

  run(): Map<string, InferredFact> {
    const out = new Map<string, InferredFact>();
    // Releasers the facts name, with the maker that names each first.
    const named = new Map<string, string>();
    for (const { decl, file } of this.decls.values()) {
      const fact = this.inferFunction(decl, file);
      if (!fact) continue;
      out.set(decl.name, fact);
      const c = fact.contract;
      for (const r of [...(c.returns?.kind === 'owned' ? c.returns.releasedBy : []), ...c.writesOwned.flatMap((w) => w.releasedBy)]) if (!named.has(r)) named.set(r, decl.name);
    }
    // Each releaser releases its one pointer argument: said, so that no default stands in for it.
    for (const [name, maker] of named) {
      const found = this.decls.get(name);
      const param = found ? this.releaseParam(found.decl) : undefined;
      if (out.has(name) || !found || param === undefined) continue;
      const { decl, file } = found;
      const claim = docClaim(decl.doc, name, decl.docShared);
      if (claim === 'conflict' || claim?.k === 'borrowed') continue;
      const doc = /^\s*(?:frees?|destroys?|releases?|deletes?|deallocates?|disposes?|closes? and frees?|decrements?|unrefs?)\b/i.test(decl.doc);
      const sources: FactSource[] = doc ? ['doc', 'naming'] : ['naming'];
      const pname = decl.params[param].name ?? String(param + 1);
      // A releaser that returns a status may refuse (ceph_release on a mounted handle, sqlite3_close while statements remain): the caller still owns the object then.
      const pointee = this.releasesPointee(decl);
      const clause = `releases ${pointee ? '*' : ''}${pname}${!pointee && returnsStatus(decl) ? ' on success' : ''}`;
      out.set(name, this.fact(decl, file, [clause], sources, `releases what ${maker} makes${doc ? `; doc: "${firstWords(decl.doc)}"` : ''}`, doc ? 'high' : 'medium'));
    }
    return out;
  }

  /** A releaser that takes a pointer to the handle it releases (and sets it to NULL). */
  private releasesPointee(decl: HeaderDecl): boolean {
    const ptrs = decl.params.map((p) => this.typeOf(p)).filter((t) => t.pointers > 0);
    return ptrs.length === 1 && ptrs[0].pointers === 2 && this.pointerTypedefs.has(ptrs[0].base);
  }

  /** The argument a releaser releases: its only pointer, or its only untyped one (rd_kafka_mem_free(rk, ptr)). */
  private releaseParam(decl: HeaderDecl): number | undefined {
    if (this.releasesPointee(decl)) return decl.params.findIndex((p) => this.typeOf(p).pointers === 2);
    const ptrs = decl.params.map((p, i) => ({ t: this.typeOf(p), i })).filter(({ t }) => t.pointers === 1);
    if (ptrs.length === 1) return ptrs[0].i;
    const untyped = ptrs.filter(({ t }) => /^(void|gpointer)$/.test(t.base));
    return untyped.length === 1 ? untyped[0].i : undefined;
  }

  private inferFunction(decl: HeaderDecl, file: string): InferredFact | undefined {
    const words = nameWords(decl.name);
    const sections = docSections(decl.doc);
    const clauses: string[] = [];
    const sources = new Set<FactSource>();
    const evidence: string[] = [];
    let weakest: 'high' | 'medium' = 'high';
    const ret = this.typeOf({ base: decl.returnBase, pointers: decl.returnPointers, isConst: decl.returnConst });
    // Out parameters: T ** not followed by a count (that is an array of T *: rd_kafka_NewTopic_destroy_array(topics, cnt)).
    const isCount = (p: HeaderParam | undefined) => p !== undefined && p.pointers === 0 && /(cnt|count|size|len|length|num|^n)$/i.test(p.name ?? '');
    const outs = decl.params.map((p, i) => ({ p, i, t: this.typeOf(p) })).filter(({ t, i }) => t.pointers === 2 && !isCount(decl.params[i + 1]));
    // An error message written on failure is no output the doc's general text could be about.
    const outputs = (ret.pointers >= 1 ? 1 : 0) + outs.filter(({ p }) => !ERROR_STRING.test(p.name ?? '')).length;
    // A releaser makes nothing (sqlite3_free_table(char **result) frees what result holds),
    // though it may report an error string (rocksdb_delete(db, ..., char **errptr)).
    const releases = words.some((w) => w in RELEASE_RANK);
    // The result.
    if (ret.pointers >= 1 && !releases) {
      const claim = docClaim(sections.returns, decl.name, decl.docShared) ?? (outputs === 1 ? docClaim(sections.general, decl.name, decl.docShared) : undefined);
      const family = ret.pointers === 1 && !ret.isConst ? this.family(decl.name, words, ret.base, false) : undefined;
      // const memory is the library's: a caller that may not write it may not free it either
      // (one level only: `const gchar **` is a container that may be the caller's, g_variant_get_strv).
      const r = this.decide(claim, family, ret, decl) ?? (ret.isConst && ret.pointers === 1 && claim === undefined ? { clause: 'returns borrowed', sources: ['convention'] as FactSource[], evidence: `returns const ${ret.base} *`, confidence: 'medium' as const } : undefined);
      if (r) {
        clauses.push(r.clause);
        r.sources.forEach((s) => sources.add(s));
        evidence.push(r.evidence);
        if (r.confidence === 'medium') weakest = 'medium';
      }
    }
    // Out parameters.
    for (const { p, i, t } of outs) {
      const pname = p.name ?? String(i + 1);
      if (ERROR_STRING.test(p.name ?? '') && (t.base === 'char' || t.base === 'gchar')) {
        const libFree = this.libraryFree(decl.name);
        const releasers = [...(libFree ? [libFree] : []), ...(this.mallocErrors || !libFree ? ['free'] : [])];
        clauses.push(`writes owned to ${pname} released by ${releasers.join(', ')}`);
        sources.add('convention');
        evidence.push(`${pname} is a char ** error message${this.mallocErrors ? ' (the header says error messages are malloc()ed)' : ''}`);
        if (!this.mallocErrors) weakest = 'medium';
        continue;
      }
      // GLib's convention: a GError ** is set on failure, and the caller frees it with g_error_free.
      if (t.base === 'GError') {
        clauses.push(`writes owned to ${pname} released by g_error_free`);
        sources.add('convention');
        evidence.push(`${pname} is a GError ** (GLib: set on failure, freed with g_error_free)`);
        continue;
      }
      if (releases) continue;
      const claim = docClaim(sections.params.get(p.name ?? ''), decl.name, decl.docShared) ?? (outputs === 1 ? docClaim(sections.general, decl.name, decl.docShared) : undefined);
      const family = PRIMITIVE.test(t.base) ? undefined : this.family(decl.name, words, t.base, true);
      const r = this.decide(claim, family, t, decl);
      if (!r || !r.clause.startsWith('returns owned')) continue;
      const released = r.clause.replace(/^returns owned /, '');
      // Set only on success when the result is a status; an error object is set only on failure, and is nil otherwise.
      const isError = /error|err$/i.test(t.base);
      // "should always be called on the resulting appender, even if the function returns DuckDBError": set on every outcome.
      const always = EVERY_OUTCOME.exec(plainDoc(`${decl.notes ?? ''} ${decl.doc}`));
      clauses.push(`writes owned to ${pname} ${released}${!isError && !always && returnsStatus(decl) ? ' on success' : ''}`);
      if (always) evidence.push(`${pname}: doc: "${always[0]}" (set on every outcome)`);
      r.sources.forEach((s) => sources.add(s));
      evidence.push(r.evidence.replace(/^/, `${pname}: `));
      if (r.confidence === 'medium') weakest = 'medium';
    }
    // An argument the function releases itself (rd_kafka_new: "The conf object is freed by this function on success").
    for (const m of decl.doc.matchAll(FREED_BY_CALLEE)) {
      const p = decl.params.find((q) => q.name === m[1] && q.pointers >= 1);
      if (!p?.name || clauses.some((c) => c.startsWith(`releases ${p.name}`))) continue;
      clauses.push(`releases ${p.name}${m[2] ? ' on success' : ''}`);
      sources.add('doc');
      evidence.push(`${p.name}: doc: "${m[0].replace(/\s+/g, ' ').trim()}"`);
    }
    if (!clauses.length) return undefined;
    return this.fact(decl, file, clauses, [...sources], evidence.join('; '), weakest);
  }

  /** Combines what the doc says with what the family says; disagreement gives nothing. */
  private decide(claim: DocClaim | 'conflict' | undefined, family: Family | undefined, t: TypeRef, decl: HeaderDecl): { clause: string; sources: FactSource[]; evidence: string; confidence: 'high' | 'medium' } | undefined {
    if (claim === 'conflict') return undefined;
    const names = family?.releasers.map((r) => r.name) ?? [];
    if (claim?.k === 'borrowed') {
      if (family) return undefined;
      const from = claim.owner ? this.paramFor(claim.owner, decl) : undefined;
      return { clause: `returns borrowed${from ? ` from ${from}` : ''}`, sources: ['doc'], evidence: `doc: "${claim.phrase}"`, confidence: 'high' };
    }
    if (claim?.k === 'owned') {
      const declared = claim.releaser ? this.decls.get(claim.releaser) : undefined;
      const named = claim.releaser === 'free' || (declared && this.releaseParam(declared.decl) !== undefined) ? claim.releaser : undefined;
      // A releaser the doc names must agree with the family's.
      if (named && family && !names.includes(named)) return undefined;
      const releasers = named ? [named] : names.length ? names : PRIMITIVE.test(t.base) ? this.stringFree(decl.name) : [];
      if (!releasers.length) return undefined;
      return { clause: `returns owned released by ${releasers.join(', ')}`, sources: family ? ['doc', 'naming'] : ['doc'], evidence: `doc: "${claim.phrase}"${family ? `, and ${family.why}` : ''}`, confidence: named || family ? 'high' : 'medium' };
    }
    if (family) return { clause: `returns owned released by ${names.join(', ')}`, sources: ['naming'], evidence: family.why, confidence: 'medium' };
    return undefined;
  }

  /**
   * The releasers of type T that pair with this function by name: the releaser's
   * other words all appear in the function's name (rocksdb_options_destroy and
   * rocksdb_options_create; SDL_FreeSurface and SDL_CreateRGBSurface), the
   * function makes (a constructor verb, or an out parameter), and is no getter.
   */
  private family(name: string, words: string[], base: string, outParam: boolean): Family | undefined {
    if (words.some((w) => GETTER.has(w) || w in RELEASE_RANK)) return undefined;
    // An error object is made by whatever returns one (rd_kafka_consumer_group_metadata_write returns an rd_kafka_error_t *).
    const errorObject = !outParam && isErrorTypeName(base);
    if (!outParam && !errorObject && !words.some((w) => CTOR.has(w))) return undefined;
    // Only the type's strongest releasers: a close or a delete next to a free shuts down or removes
    // without releasing (git_reference_delete removes the reference from disk; git_reference_free frees it).
    const all = this.releasers.get(base) ?? [];
    const best = Math.min(...all.map((r) => RELEASE_RANK[r.verb]));
    const found = all.filter((r) => RELEASE_RANK[r.verb] === best && r.name !== name && (errorObject || r.nouns.every((n) => words.includes(n))));
    if (!found.length || found.length > 3) return undefined;
    const verb = words.find((w) => CTOR.has(w));
    return { releasers: found, why: `${verb || errorObject ? `${name} makes a ${base}` : `${name} fills a ${base} **`} and ${found.map((r) => r.name).join(' or ')} releases one` };
  }

  /** The parameter an owner word names: by name, or by type (`owned by the repository` → git_repository *repo). */
  private paramFor(word: string, decl: HeaderDecl): string | undefined {
    const w = word.toLowerCase();
    const ws = nameWords(word);
    const i = decl.params.findIndex((p: HeaderParam) => p.pointers > 0 && (p.name?.toLowerCase() === w || ws.every((x) => nameWords(p.base).includes(x))));
    return i < 0 ? undefined : (decl.params[i].name ?? String(i + 1));
  }

  /** The library's own free for memory it allocates (rocksdb_free, sqlite3_free, g_free): `PREFIX_free(void *)`, by the function's prefix. */
  private libraryFree(fn: string): string | undefined {
    const parts = fn.split('_');
    for (let n = Math.min(3, parts.length - 1); n >= 1; n--) {
      const cand = this.decls.get(`${parts.slice(0, n).join('_')}_free`);
      if (cand && cand.decl.params.length === 1 && cand.decl.params[0].pointers === 1 && PRIMITIVE.test(cand.decl.params[0].base)) return cand.decl.name;
    }
    return undefined;
  }

  /** How an owned string or buffer is released when the doc does not say: the library's own free (and libc's, which it wraps), else free. */
  private stringFree(fn: string): string[] {
    const own = this.libraryFree(fn);
    return own ? [own, 'free'] : ['free'];
  }

  private fact(decl: HeaderDecl, file: string, clauses: string[], sources: FactSource[], evidence: string, confidence: 'high' | 'medium' = 'medium'): InferredFact {
    const params = decl.params.map((p, i) => p.name ?? `p${i + 1}`);
    const text = `${decl.name}(${params.join(', ')}) ${clauses.join('; ')}`;
    const contract = parseInferred(text, `${file}:${decl.line}`, evidence, confidence);
    return { contract, text, sources: [...new Set(sources)].sort() };
  }
}

interface Family {
  releasers: { name: string; param: number }[];
  why: string;
}

function firstWords(doc: string): string {
  const s = doc.replace(/\s+/g, ' ').trim();
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function parseInferred(text: string, where: string, evidence: string, confidence: 'high' | 'medium'): Contract {
  const c = parseContract(text, `inferred from ${where}`);
  return { ...c, evidence, ...(confidence === 'high' ? {} : { confidence }) };
}

/** "The \\p conf object is freed by this function on success": the argument the call releases, and whether only on success. */
const FREED_BY_CALLEE = /(?:[\\@]p\s+|`)?(\w+)`?\s+(?:object\s+|argument\s+|parameter\s+)?(?:is|will be)\s+(?:freed|destroyed|released)\s+by\s+this\s+(?:function|call)(\s+on\s+success)?/gi;

/** Phrases that say an output must be released whatever the call returned. */
const EVERY_OUTCOME = /\beven if (?:the function|it|the call) (?:returns|fails)|\bwhether or not an error occurs|\beven (?:on|in case of|upon) (?:failure|error)|\bregardless of (?:the|its) (?:return|result)/i;

/** A doc comment as one line of words. */
function plainDoc(doc: string): string {
  return doc.replace(/\s+/g, ' ');
}

/** The result is a status code (0 or an error code), not a value: `int`, `rd_kafka_resp_err_t`, `hs_error_t`. */
function returnsStatus(decl: HeaderDecl): boolean {
  return /^(int|long|[a-z0-9_]*(err|error|errno|code|status|state|result|ret|res|rc)_?t?|hs_error_t)$/i.test(decl.returnBase) && decl.returnPointers === 0 && !/^(g?boolean|bool|_Bool)$/.test(decl.returnBase);
}
