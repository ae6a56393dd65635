// Eight goroutines allocate at once; each keeps its last string.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"sync"
	"unsafe"
)

func worker(wg *sync.WaitGroup) {
	defer wg.Done()
	var last *C.char
	for i := 0; i < 1000; i++ {
		if last != nil {
			C.free(unsafe.Pointer(last))
		}
		last = C.CString("abcdefg")
	}
}

func main() {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go worker(&wg)
	}
	wg.Wait()
}
