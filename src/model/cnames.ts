// What the names of C functions say about them, by the conventions C libraries follow.

/**
 * Names of C functions that, by every convention we know, release what they
 * are given (duckdb_free, git_repository_free, curl_easy_cleanup, g_object_unref).
 * Without a contract the analysis cannot say what they release, so memory
 * handed to them is treated as moved, never as leaked.
 */
export function looksLikeReleaser(name: string): boolean {
  return (
    LIBC_RELEASERS.has(name) ||
    /(^|_|[a-zA-Z0-9])(free|Free|FREE|release|Release|destroy|Destroy|dispose|Dispose|unref|Unref|dealloc|delete|Delete|cleanup|Cleanup|finalize|Finalize)(_|[A-Z0-9]|$)/.test(name)
  );
}

const LIBC_RELEASERS = new Set(['freeaddrinfo', 'freeifaddrs', 'globfree', 'regfree', 'freelocale']);

/**
 * Names of C functions that, by convention, take over what they are given
 * (GLib's g_variant_new_take_string, g_value_take_object, *_adopt_*): memory
 * handed to them is treated as moved, never as leaked.
 */
export function looksLikeTaker(name: string): boolean {
  return /(^|_)(take|adopt)(_|$)|[a-z0-9](Take|Adopt)([A-Z0-9]|$)/.test(name);
}

/** A type named as an error object (`rd_kafka_error_t`, `GError`, `struct foo_error`): made on failure, for the caller to destroy. */
export function isErrorTypeName(name: string): boolean {
  return /(^|_)err(or)?(_t|_s)?$|^G?Error$|[a-z]Error$/i.test(name);
}
