// Seed scenario 3.2 (pressure test): 1 KiB allocated on every iteration and
// never freed; pprof's heap profile stays flat while RSS grows.
package main

/*
#include <stdlib.h>
#include <string.h>
static void touch(void *p, size_t n) { memset(p, 0, n); }
*/
import "C"

import (
	"runtime"
	"unsafe"
)

func leakLoop() {
	for i := 0; i < 10000; i++ {
		p := C.malloc(1024) // want "C memory from C.malloc is not freed before p goes out of scope at the end of the loop iteration"
		C.touch(p, 1024)
		if i%1000 == 0 {
			runtime.GC() // the collector never frees C memory
		}
	}
}

// Freed on every iteration but one: the early exit skips the free.
func leakOnBreak(names []string) {
	for _, n := range names {
		p := C.CString(n) // want "C memory from C.CString is not freed on the path that returns"
		if n == "" {
			break
		}
		C.free(unsafe.Pointer(p))
	}
}

func main() {
	leakLoop()
	leakOnBreak([]string{"a", "", "b"})
}
