// Seed scenario 4.1: unsafe.Slice over C.malloc memory with a length that
// does not match the allocation. Found by the C-memory slice rule.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func main() {
	p := C.malloc(16)
	defer C.free(p)
	b := unsafe.Slice((*byte)(p), 64) // want "unsafe.Slice makes 64 elements of 1 byte \\(64 bytes\\) over 16 bytes from C.malloc"
	fmt.Println(len(b))
}
