// Seed scenario 2.1: a Go stack variable's address returned as a C pointer.
// Escape analysis moves x to the heap, so Go itself is safe; the hazard is C
// keeping the pointer after the call (checked by the C-side rules).
package main

/*
#include <stdlib.h>
static int read_int(int *p) { return *p; }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func badPtr() *C.char {
	return C.CString("hello") // ownership moves to the caller
}

func dangerousPtr() *C.int {
	x := 42
	return (*C.int)(unsafe.Pointer(&x))
}

func main() {
	p := badPtr()
	defer C.free(unsafe.Pointer(p))
	fmt.Println(C.GoString(p), C.read_int(dangerousPtr()))
}
