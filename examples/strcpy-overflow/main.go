// Seed scenario 2.2: C's strcpy writes 10 bytes into a 5-byte Go buffer.
// Found by the C-side overflow rule (the buffer and the literal have known sizes).
package main

/*
#include <string.h>
void unsafe_write(char* p) {
    strcpy(p, "overflow!");
}
*/
import "C"

import "unsafe"

func main() {
	buf := make([]byte, 5)
	C.unsafe_write((*C.char)(unsafe.Pointer(&buf[0]))) // want "C.unsafe_write writes 10 bytes through argument 1 \\(strcpy\\), but &buf\\[0\\] points to a 5-byte Go buffer \\(make\\)"
}
