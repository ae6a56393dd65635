import type { RuleMeta } from './rule.js';

export const cAnalyzer: RuleMeta = {
  id: 'c-analyzer',
  title: 'A memory bug inside the C code (clang static analyzer)',
  severity: 'warning',
  precision: 'medium',
  rationale:
    'The C functions in a cgo preamble and in the package\'s .c files leak, free twice and use freed memory ' +
    'like any C code, and Go\'s tools never look at them. When clang is installed, cgoguard runs its static ' +
    'analyzer on each preamble and .c file with the package\'s #cgo flags and reports what its memory ' +
    'checkers find (unix.Malloc, unix.MismatchedDeallocator, unix.cstring, cplusplus.NewDelete, ' +
    'core.StackAddressEscape), at the line in the Go file or .c file, with the analyzer\'s path. Without ' +
    'clang the check says so once and the rest of the analysis runs; --no-c-analyzer switches it off.',
  bad: `// static char *join(const char *a, const char *b) {
//     char *r = malloc(strlen(a) + strlen(b) + 1);
//     if (!*a) return strdup(b);   // r leaks
//     ...`,
  good: `// static char *join(const char *a, const char *b) {
//     if (!*a) return strdup(b);
//     char *r = malloc(strlen(a) + strlen(b) + 1);
//     ...`,
};
