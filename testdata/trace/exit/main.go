// Leaks, then leaves through os.Exit: deferred code never runs.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"os"
	"unsafe"
)

func main() {
	kept := C.malloc(100)
	defer C.free(kept)
	_ = C.CString("lost on exit")
	os.Exit(3)
	_ = unsafe.Pointer(nil)
}
