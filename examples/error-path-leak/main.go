// The most common cgo leak: the C string is freed on the happy path, and the
// error return above it skips the free.
package main

/*
#include <stdlib.h>
#include <string.h>
static int validate(const char *s) { return strlen(s) > 0 ? 0 : -1; }
static int store(const char *key, const char *value) { (void)key; (void)value; return 0; }
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

func put(key, value string) error {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	cv := C.CString(value) // want "C memory from C.CString is not freed on the path that returns at line 24"
	if C.validate(cv) != 0 {
		return errors.New("empty value")
	}
	rc := C.store(ck, cv)
	C.free(unsafe.Pointer(cv))
	if rc != 0 {
		return fmt.Errorf("store failed: %d", rc)
	}
	return nil
}

func main() {
	fmt.Println(put("a", "1"), put("b", ""))
}
