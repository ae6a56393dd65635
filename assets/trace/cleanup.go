//go:build go1.24

package cgoguardtrace

import (
	"runtime"
	"unsafe"
)

// AddCleanup stands for runtime.AddCleanup in traced code: it records what
// the object and the cleanup's argument point to, then adds the cleanup.
func AddCleanup[T, S any](ptr *T, cleanup func(S), arg S) runtime.Cleanup {
	if enabled && ptr != nil {
		holdWords(unsafe.Pointer(ptr), unsafe.Sizeof(*ptr))
		holdWords(unsafe.Pointer(&arg), unsafe.Sizeof(arg))
	}
	return runtime.AddCleanup(ptr, cleanup, arg)
}
