// Seed scenario 4.4: C memory released by a finalizer. The last use of
// b.ptr is not followed by runtime.KeepAlive(b), so the finalizer may run
// while C still reads the memory. Found by finalizer-lifetime.
package main

/*
#include <stdlib.h>
#include <string.h>
static size_t measure(const char *p) { return strlen(p); }
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

type CBuffer struct {
	ptr *C.char
}

func NewCBuffer(s string) *CBuffer {
	b := &CBuffer{ptr: C.CString(s)}
	runtime.SetFinalizer(b, func(b *CBuffer) {
		C.free(unsafe.Pointer(b.ptr))
	})
	return b
}

func (b *CBuffer) Len() int {
	return int(C.measure(b.ptr)) // want "b.ptr is passed to C.measure but b is not used after the call"
}

func main() {
	fmt.Println(NewCBuffer("hello").Len())
}
