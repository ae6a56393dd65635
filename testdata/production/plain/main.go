// A program without net/http/pprof: a production build serves its C heap
// only on CGOGUARD_LISTEN. It keeps 64 blocks of 4 KiB made by keep and
// releases those of drop, then waits to be stopped.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"
)

var kept []unsafe.Pointer

func keep() { kept = append(kept, C.malloc(4096)) }

func drop() { C.free(C.malloc(4096)) }

func main() {
	for i := 0; i < 64; i++ {
		keep()
		drop()
	}
	fmt.Println("listening on none")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
