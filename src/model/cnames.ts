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
