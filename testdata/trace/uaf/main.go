// C.GoString over memory already freed.
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
	p := C.CString("hello")
	C.free(unsafe.Pointer(p))
	s := C.GoString(p)
	fmt.Println(len(s) >= 0)
}
