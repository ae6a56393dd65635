// Package cgoguardtrace records the C allocations and releases of a program
// built by `cgoguard trace`. It is added to the build through -overlay and
// called from the rewritten allocation and release sites; user files on
// disk are never changed. It uses the Go standard library only.
//
// Events go into memory-mapped segment files in $CGOGUARD_TRACE_DIR/<pid>/:
// the kernel keeps what was written when the process exits, panics or dies
// of a signal. Faulting in fresh pages would be most of the cost of tracing,
// so records are 16 bytes, as few as an event allows, and each segment is
// allocated and mapped in (mapFile) by another goroutine while the writers
// are halfway through the one before. A record's kind is stored last, so a
// record torn by a crash reads as empty. New stacks are appended, symbolised,
// to stacks.jsonl. If the file system runs out of room, recording stops and
// the reason is written to the file "lost".
//
// A production build (`cgoguard build`) adds production.go, which switches
// the hooks to sampling mode (sampling.go) instead: no event is written.
package cgoguardtrace

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

const (
	recordSize = 16
	// Segments grow: 64 KiB, 128 KiB, ... up to 16 MiB each, so that the many
	// short processes of a test suite cost little and long runs map seldom.
	firstShift  = 12                          // 2^12 records in the first segment
	growing     = 8                           // segments that double
	fullRecords = 1 << (firstShift + growing) // 16 MiB segments after that
	maxSegments = 1 << 12
	stackDepth  = 32
	// Stacks are sampled per site: the first ones, then the 2^k-th, then one
	// in stackEvery (each allocation still has its exact site, so its exact Go
	// line). A sample costs microseconds; an event, nanoseconds.
	stackFirst = 8
	stackEvery = 4096
	shards     = 64
)

// Record kinds, as the reader expects them. A record is 8 bytes of payload
// (the pointer, unless said otherwise), 4 of aux, then the site (24 bits) and
// the kind (8 bits). An event with extras is followed by them in the very
// next slots (all reserved at once).
const (
	kindAlloc     = 1  // aux: size+1 (0: unknown; all ones: in a size extra)
	kindFree      = 2  //
	kindRealloc   = 3  // the new block; aux: as for alloc
	kindViolation = 4  // aux: the violation code
	kindHistory   = 5  // extra of a violation: payload: allocation and release stacks; aux: allocation site; site: release site
	kindSample    = 6  // extra of a sampled event: payload: the goroutine id; aux: the stack id
	kindMoved     = 7  // the block realloc released
	kindUse       = 8  // a read of C memory, checked after the run
	kindSeen      = 9  // a pointer C returned
	kindTime      = 10 // payload: nanoseconds since start, for the events after it
	kindSize      = 11 // extra of an alloc or realloc: payload: a size too big for aux
	kindHeld      = 12 // a word of an object a finalizer or cleanup was set on (or the cleanup's argument)
	noSite        = 1<<24 - 1
	bigSize       = 1<<32 - 1
)

// Violation codes (in the record's size field).
const (
	violDoubleFree   = 1
	violUseFreed     = 2
	violReallocFreed = 3
)

var (
	enabled    bool
	abortFirst bool
	fullStacks bool
	dir        string
	start      time.Time
	next       atomic.Uint64
	segMu      sync.Mutex
	segFailed  bool                              // under segMu: a segment could not be made; nothing more is recorded
	segs       [maxSegments]atomic.Pointer[byte] // the first byte of each mapped segment
	stackMu    sync.Mutex
	stackIDs   = map[[stackDepth]uintptr]uint32{}
	stackFile  *os.File
	siteCount  [1 << 16]uint32
	// guard: check each release and read against what the trace knows, in the process.
	guard bool
)

type block struct {
	site  int32
	stack uint32
	size  int64
	freed bool
	// Where it was released, once it is.
	freeSite  int32
	freeStack uint32
}

// Enabled says whether events are being recorded (the variable is set).
var Enabled bool

func init() {
	base := os.Getenv("CGOGUARD_TRACE_DIR")
	if base == "" || sampling {
		return
	}
	dir = filepath.Join(base, strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "cgoguard trace: %v\n", err)
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, "stacks.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cgoguard trace: %v\n", err)
		return
	}
	stackFile = f
	for i := range table {
		table[i].m = map[uintptr]block{}
	}
	abortFirst = os.Getenv("CGOGUARD_TRACE_ABORT") == "1"
	guard = abortFirst || os.Getenv("CGOGUARD_TRACE_GUARD") == "1"
	fullStacks = os.Getenv("CGOGUARD_TRACE_STACKS") == "all"
	start = time.Now()
	if mapSegment(0) == nil {
		return
	}
	go tick()
	enabled = true
	Enabled = true
}

// place returns the segment of a slot, its index in it, and the segment's size in records.
func place(slot uint64) (k, i, size uint64) {
	const grown = (1<<growing - 1) << firstShift // records in the growing segments
	if slot < grown {
		k = uint64(bits.Len64(slot>>firstShift+1)) - 1
		return k, slot - (1<<k-1)<<firstShift, 1 << (firstShift + k)
	}
	rest := slot - grown
	return growing + rest/fullRecords, rest % fullRecords, fullRecords
}

func segmentRecords(k uint64) uint64 {
	if k < growing {
		return 1 << (firstShift + k)
	}
	return fullRecords
}

// mapSegment returns the start of segment k, mapping it when nobody has yet.
func mapSegment(k uint64) unsafe.Pointer {
	segMu.Lock()
	defer segMu.Unlock()
	if p := segs[k].Load(); p != nil {
		return unsafe.Pointer(p)
	}
	if segFailed {
		return nil
	}
	name := filepath.Join(dir, fmt.Sprintf("events.%04d", k))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err == nil {
		defer f.Close()
		var b []byte
		if b, err = mapFile(f, int(segmentRecords(k)*recordSize)); err == nil {
			segs[k].Store(&b[0])
			return unsafe.Pointer(&b[0])
		}
		os.Remove(name)
	}
	segFailed = true
	os.WriteFile(filepath.Join(dir, "lost"), []byte(err.Error()), 0o644)
	return nil
}

// reserve returns the first of n consecutive record slots.
func reserve(n uint64) uint64 {
	return next.Add(n) - n
}

// put fills a slot, the kind word last (a plain store: stores are not
// reordered, and a locked one would cost more than the rest of the event).
func put(slot uint64, kind uint32, payload uint64, aux uint32, site int32) {
	k, i, size := place(slot)
	if k >= maxSegments {
		return
	}
	if i == size/2 && k+1 < maxSegments {
		go mapSegment(k + 1) // ready before a writer needs it
	}
	seg := unsafe.Pointer(segs[k].Load())
	if seg == nil {
		if seg = mapSegment(k); seg == nil {
			return
		}
	}
	r := unsafe.Add(seg, i*recordSize)
	*(*uint64)(r) = payload
	*(*uint32)(unsafe.Add(r, 8)) = aux
	*(*uint32)(unsafe.Add(r, 12)) = uint32(site)&noSite | kind<<24
}

// event writes one record and its extras: the size when it does not fit, the
// stack and goroutine when they were sampled.
func event(kind uint32, ptr uintptr, size int64, site int32, stack uint32, gid uint64) {
	if now.Load() != stamped.Load() {
		stamp()
	}
	aux, big := uint32(size+1), size+1 < 0 || size+1 >= bigSize
	if !big && stack == 0 {
		put(reserve(1), kind, uint64(ptr), aux, site)
		return
	}
	n := uint64(1)
	if big {
		aux = bigSize
		n++
	}
	if stack != 0 {
		n++
	}
	slot := reserve(n)
	put(slot, kind, uint64(ptr), aux, site)
	if big {
		slot++
		put(slot, kindSize, uint64(size), 0, site)
	}
	if stack != 0 {
		put(slot+1, kindSample, gid, stack, site)
	}
}

// now is a coarse clock (nanoseconds since start, updated every millisecond):
// reading the real clock for each allocation would cost more than the
// allocation. A time record is written before the first event of each tick.
var now, stamped atomic.Int64

func tick() {
	t := time.NewTicker(time.Millisecond)
	for range t.C {
		now.Store(int64(time.Since(start)))
	}
}

func stamp() {
	if t, s := now.Load(), stamped.Load(); t != s && stamped.CompareAndSwap(s, t) {
		put(reserve(1), kindTime, uint64(t), 0, 0)
	}
}

// sampled says whether this event of a site takes its stack (small enough to
// be inlined into the hot path; the sample itself costs microseconds).
func sampled(site int32) bool {
	if fullStacks {
		return true
	}
	// A plain increment: a count lost to a race only moves a sample.
	c := &siteCount[uint32(site)&(1<<16-1)]
	*c++
	n := *c
	return n <= stackFirst || n&(n-1) == 0 || n%stackEvery == 0
}

// capture returns the id of the stack that called into the tracer, and its goroutine.
func capture() (uint32, uint64) {
	var pcs [stackDepth]uintptr
	runtime.Callers(3, pcs[:]) // from the tracer's caller: tracer frames and the rewrite's closures are left out when written
	return internStack(pcs), goid()
}

// internStack returns a stack's id, new ones numbered from 1: written to
// stacks.jsonl when tracing, kept in memory for the profile when sampling.
func internStack(pcs [stackDepth]uintptr) uint32 {
	stackMu.Lock()
	defer stackMu.Unlock()
	id, ok := stackIDs[pcs]
	if !ok {
		id = uint32(len(stackIDs) + 1)
		stackIDs[pcs] = id
		if sampling {
			stackPCs = append(stackPCs, pcs)
		} else {
			writeStack(id, pcs[:])
		}
	}
	return id
}

func writeStack(id uint32, pcs []uintptr) {
	b := []byte(`{"id":` + strconv.FormatUint(uint64(id), 10) + `,"frames":[`)
	for i, f := range userFrames(pcs) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"fn":`...)
		b = strconv.AppendQuote(b, f.Function)
		b = append(b, `,"file":`...)
		b = strconv.AppendQuote(b, f.File)
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(f.Line), 10)
		b = append(b, '}')
	}
	b = append(b, "]}\n"...)
	stackFile.Write(b)
}

// userFrames symbolises a stack, leaving out the tracer's own frames and the
// closures the rewrite puts around a call (they sit on their caller's line).
func userFrames(pcs []uintptr) []runtime.Frame {
	n := 0
	for n < len(pcs) && pcs[n] != 0 {
		n++
	}
	var all []runtime.Frame
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !isTracer(f.Function) {
			all = append(all, f)
		}
		if !more {
			break
		}
	}
	out := all[:0]
	for i, f := range all {
		if i+1 < len(all) && all[i+1].File == f.File && all[i+1].Line == f.Line && isClosure(f.Function) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// isClosure: a function literal's name ends in .funcN.
func isClosure(fn string) bool {
	i := len(fn)
	for i > 0 && fn[i-1] >= '0' && fn[i-1] <= '9' {
		i--
	}
	return i < len(fn) && i >= 5 && fn[i-5:i] == ".func"
}

func isTracer(fn string) bool {
	return strings.Contains(fn, "cgoguardtrace.")
}

// goid reads the goroutine id from the first line of runtime.Stack ("goroutine 12 [running]:").
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id uint64
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

func pointer[P any](p P) uintptr {
	if unsafe.Sizeof(p) != unsafe.Sizeof(uintptr(0)) {
		return 0
	}
	return *(*uintptr)(unsafe.Pointer(&p))
}

// Guard mode keeps, per address, what the trace knows: live (with its
// allocation), freed (with both sites), or nothing (memory it never saw
// allocated: C's own, or not C memory, which it does not judge).
type shard struct {
	sync.Mutex
	m map[uintptr]block
}

var table [shards]shard

func shardOf(p uintptr) *shard {
	return &table[(p>>4)%shards]
}

// setLive records a block the trace saw allocated (guard mode).
func setLive(ptr uintptr, b block) {
	s := shardOf(ptr)
	s.Lock()
	s.m[ptr] = b
	s.Unlock()
}

// markFreed records the release of a live block (guard mode) and returns the
// block as it was, and whether it had been freed already.
func markFreed(ptr uintptr, site int32, stack uint32) (block, bool) {
	s := shardOf(ptr)
	s.Lock()
	defer s.Unlock()
	b, known := s.m[ptr]
	if known && !b.freed {
		nb := b
		nb.freed, nb.freeSite, nb.freeStack = true, site, stack
		s.m[ptr] = nb
	}
	return b, known && b.freed
}

// Alloc records a block of size bytes (-1: unknown) made at a site, and returns it.
func Alloc[P any](p P, size int, site int32) P {
	if !enabled {
		return p
	}
	ptr := pointer(p)
	if ptr == 0 {
		return p
	}
	if sampling {
		sampleAlloc(ptr, size, site)
		return p
	}
	var stack uint32
	var gid uint64
	if sampled(site) {
		stack, gid = capture()
	}
	if guard {
		setLive(ptr, block{site: site, stack: stack, size: int64(size)})
	}
	countAlloc(ptr, size)
	event(kindAlloc, ptr, int64(size), site, stack, gid)
	return p
}

// Free records a release and reports whether it may go ahead: in guard mode a
// second free of a block is reported and not performed.
func Free[P any](p P, site int32) bool {
	if !enabled {
		return true
	}
	ptr := pointer(p)
	if ptr == 0 {
		return true
	}
	if sampling {
		sampleFree(ptr, site)
		return true
	}
	var stack uint32
	var gid uint64
	if sampled(site) {
		stack, gid = capture()
	}
	if guard {
		if b, double := markFreed(ptr, site, stack); double {
			violation(violDoubleFree, ptr, site, b)
			return false
		}
	}
	countFree(ptr)
	event(kindFree, ptr, 0, site, stack, gid)
	return true
}

// freedBlock says whether the trace saw this block freed (and not allocated again since).
func freedBlock(ptr uintptr) (block, bool) {
	s := shardOf(ptr)
	s.Lock()
	b, ok := s.m[ptr]
	s.Unlock()
	return b, ok && b.freed
}

// Use records a read of C memory (C.GoString, C.GoBytes, unsafe.Slice) and returns the pointer.
func Use[P any](p P, site int32) P {
	if !enabled {
		return p
	}
	ptr := pointer(p)
	if ptr == 0 {
		return p
	}
	if sampling {
		return p
	}
	if guard {
		if b, freed := freedBlock(ptr); freed {
			violation(violUseFreed, ptr, site, b)
		}
		return p
	}
	put(reserve(1), kindUse, uint64(ptr), 0, site)
	return p
}

// Seen notes a pointer C handed to Go (the result of a C function the trace
// does not know as an allocator): C may have allocated it where a traced block
// was before, so that address is no longer "freed".
func Seen[P any](p P) P {
	if !enabled {
		return p
	}
	ptr := pointer(p)
	if ptr == 0 {
		return p
	}
	if sampling {
		return p
	}
	if guard {
		s := shardOf(ptr)
		s.Lock()
		if b, ok := s.m[ptr]; ok && b.freed {
			delete(s.m, ptr)
		}
		s.Unlock()
		return p
	}
	put(reserve(1), kindSeen, uint64(ptr), 0, -1)
	return p
}

// ReallocStart checks the block handed to realloc; ReallocDone records the move.
func ReallocStart[P any](p P, site int32) P {
	if !enabled || !guard {
		return p
	}
	if ptr := pointer(p); ptr != 0 {
		if b, freed := freedBlock(ptr); freed {
			violation(violReallocFreed, ptr, site, b)
		}
	}
	return p
}

func ReallocDone[P any](old, p P, size int, site int32) P {
	if !enabled {
		return p
	}
	o, n := pointer(old), pointer(p)
	if n == 0 {
		return p // failed: the old block is still live
	}
	if sampling {
		if o != 0 {
			sampleFree(o, site)
		}
		sampleAlloc(n, size, site)
		return p
	}
	var stack uint32
	var gid uint64
	if sampled(site) {
		stack, gid = capture()
	}
	if o != 0 && o != n {
		if guard {
			markFreed(o, site, stack)
		}
		put(reserve(1), kindMoved, uint64(o), 0, site)
	}
	if guard {
		setLive(n, block{site: site, stack: stack, size: int64(size)})
	}
	countRealloc(o, n, size)
	event(kindRealloc, n, int64(size), site, stack, gid)
	return p
}

// violation records a misuse with its own stack (always captured) and the block's history.
func violation(code uint32, ptr uintptr, site int32, prev block) {
	stack, gid := capture()
	slot := reserve(3)
	put(slot, kindViolation, uint64(ptr), code, site)
	put(slot+1, kindHistory, uint64(prev.stack)|uint64(prev.freeStack)<<32, uint32(prev.site), prev.freeSite)
	put(slot+2, kindSample, gid, stack, site)
	if abortFirst {
		fmt.Fprintf(os.Stderr, "cgoguard trace: stopping at the first violation (--abort)\n")
		os.Exit(66)
	}
}

// heldWords is how much of an object is read for pointers when a finalizer
// or cleanup is set on it: enough for the structs that wrap C handles.
const heldWords = 64

// holdWords records each non-zero word of the n bytes at p: C memory a
// finalizer-owned object points to is not a leak the program forgot, even if
// it is still live at exit (finalizers need not run before a program ends).
func holdWords(p unsafe.Pointer, n uintptr) {
	const word = unsafe.Sizeof(uintptr(0))
	for i := uintptr(0); i < n/word && i < heldWords; i++ {
		if w := *(*uintptr)(unsafe.Add(p, i*word)); w != 0 {
			put(reserve(1), kindHeld, uint64(w), 0, -1)
		}
	}
}

// SetFinalizer stands for runtime.SetFinalizer in traced code: it records
// what the object points to, then sets the finalizer.
func SetFinalizer(obj any, finalizer any) {
	if enabled && finalizer != nil {
		if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && !v.IsNil() {
			holdWords(v.UnsafePointer(), v.Type().Elem().Size())
		}
	}
	runtime.SetFinalizer(obj, finalizer)
}
