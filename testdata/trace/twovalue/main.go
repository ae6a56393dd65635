// cgo's two-value form: files opened with errno, one closed the same way,
// one left open at exit.
package main

/*
#include <stdio.h>
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func open(path string) (*C.FILE, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	mode := C.CString("r")
	defer C.free(unsafe.Pointer(mode))
	f, err := C.fopen(cp, mode)
	return f, err
}

func main() {
	f, err := open("/dev/null")
	if err != nil {
		panic(err)
	}
	_, err = C.fclose(f)
	fmt.Println("closed:", err)
	g, err := open("/dev/null")
	fmt.Println("left open:", g != nil, err)
}
