// Contract packs: the ownership rules of a C library, written once. A pack is
// used when a preamble includes one of its headers, or when cgoguard.yaml
// lists it under `packs:` (a built-in name, or a YAML file with a
// `contracts:` list).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface ContractPack {
  name: string;
  /** Headers whose inclusion turns the pack on. */
  headers: string[];
  contracts: string[];
}

const SQLITE_DB = 'released by sqlite3_close, sqlite3_close_v2';

/** SQLite's C API: connections, statements, its allocator, and text it lends or takes. */
export const SQLITE3: ContractPack = {
  name: 'sqlite3',
  headers: ['sqlite3.h'],
  contracts: [
    // Connections: *ppDb must be closed even when open fails.
    `sqlite3_open(filename, ppDb) writes owned to ppDb ${SQLITE_DB}`,
    `sqlite3_open16(filename, ppDb) writes owned to ppDb ${SQLITE_DB}`,
    `sqlite3_open_v2(filename, ppDb, flags, zVfs) writes owned to ppDb ${SQLITE_DB}`,
    'sqlite3_close(db) releases db',
    'sqlite3_close_v2(db) releases db',
    // Statements: *ppStmt is NULL when preparing fails.
    'sqlite3_prepare(db, sql, n, ppStmt, tail) writes owned to ppStmt released by sqlite3_finalize on success',
    'sqlite3_prepare_v2(db, sql, n, ppStmt, tail) writes owned to ppStmt released by sqlite3_finalize on success',
    'sqlite3_prepare_v3(db, sql, n, flags, ppStmt, tail) writes owned to ppStmt released by sqlite3_finalize on success',
    'sqlite3_prepare16_v2(db, sql, n, ppStmt, tail) writes owned to ppStmt released by sqlite3_finalize on success',
    'sqlite3_finalize(stmt) releases stmt',
    // SQLite's allocator: what it hands out goes back through sqlite3_free.
    'sqlite3_malloc(n) returns owned released by sqlite3_free',
    'sqlite3_malloc64(n) returns owned released by sqlite3_free',
    'sqlite3_mprintf(fmt) returns owned released by sqlite3_free',
    'sqlite3_vmprintf(fmt, ap) returns owned released by sqlite3_free',
    'sqlite3_expanded_sql(stmt) returns owned released by sqlite3_free',
    'sqlite3_exec(db, sql, callback, arg, errmsg) writes owned to errmsg released by sqlite3_free on failure',
    'sqlite3_free(p) releases p',
    // With SQLITE_DESERIALIZE_FREEONCLOSE SQLite frees the buffer, even when the call fails.
    'sqlite3_deserialize(db, schema, data, szDb, szBuf, flags) takes data',
    // Text SQLite lends: valid until the next call on the same object, never freed by the caller.
    'sqlite3_errmsg(db) returns borrowed',
    'sqlite3_errstr(rc) returns borrowed',
    'sqlite3_sql(stmt) returns borrowed',
    'sqlite3_column_text(stmt, i) returns borrowed',
    'sqlite3_column_blob(stmt, i) returns borrowed',
    'sqlite3_column_name(stmt, i) returns borrowed',
    'sqlite3_column_decltype(stmt, i) returns borrowed',
    'sqlite3_value_text(value) returns borrowed',
    'sqlite3_value_blob(value) returns borrowed',
    'sqlite3_db_filename(db, name) returns borrowed',
    // A destructor argument decides: SQLITE_STATIC and SQLITE_TRANSIENT borrow, a function takes.
    'sqlite3_bind_text(stmt, i, text, n, destroy) takes text with destructor destroy',
    'sqlite3_bind_text64(stmt, i, text, n, destroy, encoding) takes text with destructor destroy',
    'sqlite3_bind_blob(stmt, i, blob, n, destroy) takes blob with destructor destroy',
    'sqlite3_bind_blob64(stmt, i, blob, n, destroy) takes blob with destructor destroy',
    'sqlite3_result_text(ctx, text, n, destroy) takes text with destructor destroy',
    'sqlite3_result_text64(ctx, text, n, destroy, encoding) takes text with destructor destroy',
    'sqlite3_result_blob(ctx, blob, n, destroy) takes blob with destructor destroy',
    'sqlite3_result_blob64(ctx, blob, n, destroy) takes blob with destructor destroy',
  ],
};

/** stdio's handles: a FILE is closed once, and not used after. */
export const STDIO: ContractPack = {
  name: 'stdio',
  headers: ['stdio.h'],
  contracts: [
    'fopen(path, mode) returns owned released by fclose',
    'fdopen(fd, mode) returns owned released by fclose',
    'freopen(path, mode, stream) returns owned released by fclose',
    'tmpfile() returns owned released by fclose',
    'popen(command, mode) returns owned released by pclose',
    'fclose(stream) releases stream',
    'pclose(stream) releases stream',
  ],
};

export const BUILTIN_PACKS: readonly ContractPack[] = [SQLITE3, STDIO];

export class PackError extends Error {}

/** A pack by built-in name, or read from a YAML file (`contracts:` list). */
export function loadPack(ref: string, baseDir: string): ContractPack {
  const builtin = BUILTIN_PACKS.find((p) => p.name === ref);
  if (builtin) return builtin;
  if (!/[./]/.test(ref)) throw new PackError(`unknown contract pack "${ref}" (built in: ${BUILTIN_PACKS.map((p) => p.name).join(', ')}; or give a path to a YAML file)`);
  const file = ref.startsWith('/') ? ref : `${baseDir}/${ref}`;
  let raw: unknown;
  try {
    // yaml is loaded only when a pack file is read (it is slow to load).
    raw = (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PackError(`${ref}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'invalid YAML'}`);
  }
  const contracts = (raw as { contracts?: unknown })?.contracts;
  if (!Array.isArray(contracts) || !contracts.every((c) => typeof c === 'string')) throw new PackError(`${ref}: expected a "contracts:" list of strings`);
  const headers = (raw as { headers?: unknown }).headers;
  return { name: ref, headers: Array.isArray(headers) ? headers.filter((h): h is string => typeof h === 'string') : [], contracts };
}

/** Packs whose headers a preamble includes. */
export function packsForPreamble(preamble: string): ContractPack[] {
  const included = new Set([...preamble.matchAll(/#\s*include\s*[<"]([^>"]+)[>"]/g)].map((m) => m[1].split('/').pop()!));
  return BUILTIN_PACKS.filter((p) => p.headers.some((h) => included.has(h)));
}
