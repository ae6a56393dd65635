// Package cstr hands out C strings; callers must release them with Free.
package cstr

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// New returns a C copy of s. Release it with Free.
func New(s string) unsafe.Pointer {
	return unsafe.Pointer(C.CString(s))
}

// Free releases a string from New.
func Free(p unsafe.Pointer) {
	C.free(p)
}
