// Package stale is correct code that AddressSanitizer accuses: a Go panic
// unwinds a C frame that ASan never sees return, the marks it left on that
// thread's stack stay, and a later, correct C function on the same thread
// trips over them.
package stale

/*
extern void goPanic(void);
static void callPanicky(void) {
	volatile char data[64 * 1024];
	data[0] = 0;
	goPanic();
	data[sizeof data - 1] = 0;
}
static int useArray(int n) {
	int a[20], s = 0;
	for (int i = 0; i < n && i < 20; i++) a[i] = i;
	for (int i = 0; i < n && i < 20; i++) s += a[i];
	return s;
}
*/
import "C"

//export goPanic
func goPanic() { panic("through C") }

func PanicThroughC() (r any) {
	defer func() { r = recover() }()
	C.callPanicky()
	return nil
}

func Sum(n int) int { return int(C.useArray(C.int(n))) }
