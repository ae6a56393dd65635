// Seed scenario 3.2: C.CString allocates with malloc and nothing frees it.
package main

/*
#include <stdio.h>
static void print(const char *s) { printf("%s\n", s); }
*/
import "C"

func greet(name string) {
	cs := C.CString("hello, " + name) // want "C memory from C.CString is not freed"
	C.print(cs)
}

func main() {
	for _, n := range []string{"gopher", "cgo"} {
		greet(n)
	}
}
