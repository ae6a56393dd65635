// A small service for the production tests: every tick it handles a
// "request" that allocates C memory. With -leak, the cache keeps every
// block (C memory grows while the Go heap stays flat); without it, blocks
// are released and memory stays steady. It serves net/http/pprof on -addr
// and prints the address it listens on.
package main

/*
#include <stdlib.h>
#include <string.h>
static void fill(void *p, size_t n) { memset(p, 0x5a, n); }
*/
import "C"

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"time"
	"unsafe"
)

type cache struct{ blocks []unsafe.Pointer }

// remember keeps a C block for good: the leak the tests look for.
func (c *cache) remember(n int) {
	p := C.malloc(C.size_t(n))
	C.fill(p, C.size_t(n))
	c.blocks = append(c.blocks, p)
}

// scratch uses a C block and releases it.
func scratch(n int) {
	p := C.malloc(C.size_t(n))
	C.fill(p, C.size_t(n))
	C.free(p)
}

func handleRequest(c *cache, leak bool, n int) {
	name := C.CString("request")
	defer C.free(unsafe.Pointer(name))
	scratch(n)
	if leak {
		c.remember(n)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "where to serve net/http/pprof")
	leak := flag.Bool("leak", false, "keep a C block per request")
	every := flag.Duration("every", 10*time.Millisecond, "time between requests")
	size := flag.Int("size", 64<<10, "bytes per request")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	go http.Serve(ln, nil)
	c := &cache{}
	for range time.Tick(*every) {
		handleRequest(c, *leak, *size)
	}
}
