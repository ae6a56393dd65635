// Seed scenario 2.3: the address of a slice header handed to C, which
// rewrites len and cap. Found by the slice-header rule.
package main

/*
void corrupt_slice_header(void* hdr, long new_len, long new_cap) {
    ((long*)hdr)[1] = new_len;
    ((long*)hdr)[2] = new_cap;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func main() {
	s := make([]byte, 4, 8)
	C.corrupt_slice_header(unsafe.Pointer(&s), 16, 16) // want "argument 1 of C.corrupt_slice_header is the address of the slice header of s"
	fmt.Println(len(s), cap(s))
}
