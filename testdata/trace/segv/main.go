// Leaks, then C dereferences NULL: the process dies of SIGSEGV.
package main

/*
#include <stdlib.h>
static void crash(int *p) { *p = 1; }
*/
import "C"

func main() {
	_ = C.malloc(64)
	C.crash(nil)
}
