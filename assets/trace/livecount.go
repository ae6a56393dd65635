package cgoguardtrace

import (
	"sync"
	"sync/atomic"
)

// Live C memory for the leak tests that `cgoguard gen tests` writes: from the
// first call of LiveC on, every traced allocation is counted until it is
// released, so a test can compare what is live before and after it runs.
// Blocks allocated before counting began are not known, and releasing them
// changes nothing. Until LiveC is called this costs one atomic load per event.
var (
	counting    atomic.Bool
	liveMu      sync.Mutex
	liveBlocks  = map[uintptr]int64{}
	liveBytes   int64
	liveObjects int64
)

// LiveC returns the bytes and blocks allocated at traced sites since its
// first call and not released since; allocations of unknown size count as
// blocks of 0 bytes.
func LiveC() (bytes, objects int64) {
	counting.Store(true)
	liveMu.Lock()
	defer liveMu.Unlock()
	return liveBytes, liveObjects
}

func countAlloc(ptr uintptr, size int) {
	if !counting.Load() {
		return
	}
	if size < 0 {
		size = 0
	}
	liveMu.Lock()
	if old, ok := liveBlocks[ptr]; ok {
		// The address came back without a release the trace saw (C freed it): the old block is gone.
		liveBytes -= old
		liveObjects--
	}
	liveBlocks[ptr] = int64(size)
	liveBytes += int64(size)
	liveObjects++
	liveMu.Unlock()
}

func countFree(ptr uintptr) {
	if !counting.Load() {
		return
	}
	liveMu.Lock()
	if size, ok := liveBlocks[ptr]; ok {
		delete(liveBlocks, ptr)
		liveBytes -= size
		liveObjects--
	}
	liveMu.Unlock()
}

// countRealloc moves a block: the old one is released (when it was counted), the new one counted.
func countRealloc(old, ptr uintptr, size int) {
	if !counting.Load() {
		return
	}
	countFree(old)
	countAlloc(ptr, size)
}
