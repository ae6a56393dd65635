package cgoguardtrace

// Sampling mode, for production builds: like Go's own heap profiler, an
// allocation carries its Go stack with a probability that grows with its size
// (one sample per sampleRate bytes on average, as a Poisson process over each
// site's bytes); every allocation and release is only counted. The sampled
// blocks that are still live make the profile of C memory in use, each scaled
// by the inverse of its chance of being sampled, as runtime/pprof scales
// Go's heap samples.

import (
	"math"
	"math/rand"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// sampling is switched on by production.go, before any init function runs.
var sampling bool

// sampleRate is the mean number of bytes between two samples of a site.
var sampleRate int64 = 512 << 10

// siteCounter holds one site's counts, on a cache line of its own so that
// goroutines busy at different sites do not slow each other.
type siteCounter struct {
	allocs atomic.Int64
	bytes  atomic.Int64
	frees  atomic.Int64
	// The value of the site's sampling clock (bytes, plus one per
	// allocation so that allocations of unknown size are sampled too) at
	// which its next sample falls.
	next atomic.Int64
	_    [32]byte
}

var siteCounters []siteCounter

type sampledBlock struct {
	stack uint32
	size  int64
	// How many allocations like this one the sample stands for.
	weight float64
}

type sampledShard struct {
	sync.Mutex
	m map[uintptr]sampledBlock
}

var sampledShards [shards]sampledShard

// mayBeSampled counts sampled blocks per hash of their address, so that a
// release checks one word and takes no lock unless its block may have been
// sampled (rarely: samples are few).
var mayBeSampled [1 << 16]atomic.Int32

func filterSlot(ptr uintptr) *atomic.Int32 {
	return &mayBeSampled[uint64(ptr>>4)*0x9E3779B97F4A7C15>>48]
}

// stackStat accumulates, per Go stack, the scaled objects and bytes
// allocated and still in use.
type stackStat struct {
	allocObjects, allocBytes, inuseObjects, inuseBytes float64
}

var (
	statMu     sync.Mutex
	stackStats = map[uint32]*stackStat{}
	// Stacks by id-1 (sampling mode keeps them in memory for the profile).
	stackPCs [][stackDepth]uintptr
)

// startSampling turns sampling mode on for a program with this many sites.
func startSampling(sites int, rate int64) {
	sampleRate = rate
	siteCounters = make([]siteCounter, sites)
	for i := range siteCounters {
		siteCounters[i].next.Store(nextGap())
	}
	for i := range sampledShards {
		sampledShards[i].m = map[uintptr]sampledBlock{}
	}
	sampling = true
	enabled = true
	Enabled = true
}

// nextGap draws the distance to the next sample: exponential, of mean sampleRate.
func nextGap() int64 {
	return int64(rand.ExpFloat64()*float64(sampleRate)) + 1
}

// sampleAlloc counts an allocation (size -1: unknown) and samples it when the
// site's clock passes its next sample point.
func sampleAlloc(ptr uintptr, size int, site int32) {
	if uint32(site) >= uint32(len(siteCounters)) {
		return
	}
	c := &siteCounters[site]
	n := c.allocs.Add(1)
	w := int64(size)
	if w < 0 {
		w = 0
	}
	if clock := c.bytes.Add(w) + n; clock >= c.next.Load() {
		sampleSlow(c, clock, ptr, w)
	}
}

func sampleSlow(c *siteCounter, clock int64, ptr uintptr, size int64) {
	next := c.next.Load()
	if clock < next || !c.next.CompareAndSwap(next, clock+nextGap()) {
		return // another goroutine took this sample point
	}
	var pcs [stackDepth]uintptr
	runtime.Callers(2, pcs[:]) // the tracer's own frames are left out when symbolised
	id := internStack(pcs)
	b := sampledBlock{stack: id, size: size, weight: 1 / (1 - math.Exp(-float64(size+1)/float64(sampleRate)))}
	s := &sampledShards[(ptr>>4)%shards]
	s.Lock()
	old, seen := s.m[ptr]
	s.m[ptr] = b
	s.Unlock()
	statMu.Lock()
	if seen {
		// Released where the trace could not see (by C): no longer in use.
		release(old)
	} else {
		filterSlot(ptr).Add(1)
	}
	st := stackStats[id]
	if st == nil {
		st = &stackStat{}
		stackStats[id] = st
	}
	st.allocObjects += b.weight
	st.allocBytes += b.weight * float64(size)
	st.inuseObjects += b.weight
	st.inuseBytes += b.weight * float64(size)
	statMu.Unlock()
}

// release takes a sampled block out of what is in use (under statMu).
func release(b sampledBlock) {
	if st := stackStats[b.stack]; st != nil {
		st.inuseObjects -= b.weight
		st.inuseBytes -= b.weight * float64(b.size)
	}
}

// sampleFree counts a release at a site and, if the block was sampled, takes it out of the profile.
func sampleFree(ptr uintptr, site int32) {
	if uint32(site) < uint32(len(siteCounters)) {
		siteCounters[site].frees.Add(1)
	}
	slot := filterSlot(ptr)
	if slot.Load() == 0 {
		return
	}
	s := &sampledShards[(ptr>>4)%shards]
	s.Lock()
	b, ok := s.m[ptr]
	delete(s.m, ptr)
	s.Unlock()
	if !ok {
		return
	}
	slot.Add(-1)
	statMu.Lock()
	release(b)
	statMu.Unlock()
}

// stackSample is one line of the profile: a stack and its scaled values.
type stackSample struct {
	stack uint32
	stat  stackStat
}

// profileSamples returns the stacks with allocations, in id order.
func profileSamples() []stackSample {
	statMu.Lock()
	out := make([]stackSample, 0, len(stackStats))
	for id, st := range stackStats {
		out = append(out, stackSample{id, *st})
	}
	statMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].stack < out[j].stack })
	return out
}

// stackFrames symbolises a sampled stack.
func stackFrames(id uint32) []runtime.Frame {
	stackMu.Lock()
	pcs := stackPCs[id-1]
	stackMu.Unlock()
	return userFrames(pcs[:])
}

// Totals are the counters over all sites.
type totals struct {
	Allocations, Frees, AllocatedBytes int64
	// Estimated from the samples, as pprof's inuse_space is.
	LiveBytes, LiveObjects float64
}

func countTotals() totals {
	var t totals
	for i := range siteCounters {
		c := &siteCounters[i]
		t.Allocations += c.allocs.Load()
		t.Frees += c.frees.Load()
		t.AllocatedBytes += c.bytes.Load()
	}
	statMu.Lock()
	for _, st := range stackStats {
		t.LiveBytes += st.inuseBytes
		t.LiveObjects += st.inuseObjects
	}
	statMu.Unlock()
	return t
}
