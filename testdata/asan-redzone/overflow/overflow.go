// Package overflow reads past a C stack array: a real stack-buffer-overflow,
// which its test hits alone as well.
package overflow

/*
static int readPast(int n) {
	int a[4] = {1, 2, 3, 4};
	volatile int i = n;
	return a[i];
}
*/
import "C"

func Read(n int) int { return int(C.readPast(C.int(n))) }
