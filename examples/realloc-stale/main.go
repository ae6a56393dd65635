// Seed scenario 4.3: a slice made before C.realloc still points into the old
// block after realloc moved it.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func grow() byte {
	p := C.malloc(16)
	view := unsafe.Slice((*byte)(p), 16)
	q := C.realloc(p, 4096)
	if q == nil {
		C.free(p)
		return 0
	}
	defer C.free(q)
	return view[0] // want "view is indexed after being freed at line 18 \\(released by C.realloc\\)"
}

func main() {
	fmt.Println(grow())
}
