package cgoguardtrace

import (
	"os"
	"syscall"
)

// mapFile makes f n bytes long and maps it in, every page already faulted in
// and writable, so that writers to it never take a page fault.
func mapFile(f *os.File, n int) ([]byte, error) {
	// Allocating the blocks first turns a full file system into an error here
	// instead of a SIGBUS at the first write to an unbacked page.
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(n)); err != nil {
		if err != syscall.EOPNOTSUPP {
			return nil, err
		}
		if err := f.Truncate(int64(n)); err != nil {
			return nil, err
		}
	}
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
}
