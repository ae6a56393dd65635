// A double free: the trace reports it with both release stacks and does not
// perform the second free, so the program goes on.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func release(p *C.char) {
	C.free(unsafe.Pointer(p))
}

func main() {
	p := C.CString("twice")
	release(p)
	release(p)
	fmt.Println("still running")
}
