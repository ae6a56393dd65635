// Leaks, then panics.
package main

/*
#include <stdlib.h>
*/
import "C"

func main() {
	_ = C.CBytes([]byte("lost in a panic"))
	panic("boom")
}
