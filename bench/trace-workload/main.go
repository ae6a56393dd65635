// The trace benchmark's workload: `pairs` makes 1e6 C.CString + C.free pairs;
// `work` is a realistic cgo loop (strings and buffers handed to C, results
// read back). It prints the loop's own time, so builds are not measured.
package main

/*
#include <stdlib.h>
#include <string.h>
static unsigned checksum(const unsigned char *p, size_t n) {
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
	return h;
}
static char *upper(const char *s) {
	size_t n = strlen(s);
	char *r = malloc(n + 1);
	for (size_t i = 0; i <= n; i++) r[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i];
	return r;
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
	"unsafe"
)

func pairs(n int) {
	for i := 0; i < n; i++ {
		p := C.CString("hello, world")
		C.free(unsafe.Pointer(p))
	}
}

func work(n int) uint {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i)
	}
	var sum uint
	for i := 0; i < n; i++ {
		cs := C.CString("the quick brown fox jumps over the lazy dog")
		up := C.upper(cs)
		sum += uint(len(C.GoString(up)))
		C.free(unsafe.Pointer(up))
		C.free(unsafe.Pointer(cs))
		cb := C.CBytes(buf)
		sum += uint(C.checksum((*C.uchar)(cb), C.size_t(len(buf))))
		C.free(cb)
	}
	return sum
}

func main() {
	if f := os.Getenv("WORKLOAD_CPUPROFILE"); f != "" {
		out, _ := os.Create(f)
		pprof.StartCPUProfile(out)
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	switch os.Args[1] {
	case "pairs":
		pairs(1_000_000)
	case "work":
		_ = work(100_000)
	}
	fmt.Printf("elapsed_ns=%d\n", time.Since(t0).Nanoseconds())
}
