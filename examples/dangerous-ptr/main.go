// Seed scenario 2.1: a Go variable's address returned as a C pointer.
// Escape analysis does see it (`moved to heap: x`), so Go keeps x alive; the
// blind spot is C keeping the pointer after the call, which the cgo pointer
// rules forbid: the garbage collector may move or free x under C's feet.
package main

/*
#include <stdlib.h>
static int *last;
static int remember(int *p) { last = p; return *p; }
static int recall(void) { return last ? *last : -1; }
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
	fmt.Println(C.GoString(p), C.remember(dangerousPtr())) // want "C.remember keeps"
	fmt.Println(C.recall())
}
