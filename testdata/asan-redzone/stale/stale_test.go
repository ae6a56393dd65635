package stale

import (
	"sync"
	"testing"
)

func TestPanicThroughC(t *testing.T) {
	if PanicThroughC() == nil {
		t.Fatal("no panic")
	}
}

func TestSum(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if Sum(20) != 190 {
					t.Error("wrong sum")
				}
			}
		}()
	}
	wg.Wait()
}
