// A failed file operation in words, the way the C library says it ("too many
// levels of symbolic links"), for one-line messages.

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENOSPC: 'no space left on device',
  EISDIR: 'is a directory',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
};

export function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (code && REASONS[code]) ?? (code || (e instanceof Error ? e.message.split('\n')[0] : String(e)));
}
