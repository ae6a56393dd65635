//go:build unix && !linux

package cgoguardtrace

import (
	"os"
	"syscall"
)

// mapFile makes f n bytes long and maps it in.
func mapFile(f *os.File, n int) ([]byte, error) {
	if err := f.Truncate(int64(n)); err != nil {
		return nil, err
	}
	return syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
}
