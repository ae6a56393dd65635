// A wrapper whose bug only a call shows: nothing in the package calls Pad,
// so its tests (the generated ones) are what `cgoguard test` runs it through.
package overflow

/*
#include <stdlib.h>
#include <string.h>

// Pads a copy of s with spaces: eight of them, into room for one.
static int pad(const char *s) {
	size_t n = strlen(s);
	char *b = malloc(n + 1);
	if (b == NULL) return -1;
	memcpy(b, s, n);
	memset(b + n, ' ', 8);
	int first = b[0];
	free(b);
	return first;
}
*/
import "C"

import "unsafe"

// Pad returns the first byte of s padded with spaces.
func Pad(s string) int {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return int(C.pad(cs))
}
