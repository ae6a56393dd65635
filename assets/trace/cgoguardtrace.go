// Package cgoguardtrace records the C allocations and releases of a program
// built by `cgoguard trace`. It is added to the build through -overlay and
// called from the rewritten allocation and release sites; user files on
// disk are never changed. It uses the Go standard library only.
//
// Events go into memory-mapped segment files in $CGOGUARD_TRACE_DIR/<pid>/:
// the kernel keeps what was written when the process exits, panics or dies
// of a signal. A record's kind is stored last, so a record torn by a crash
// reads as empty. New stacks are appended, symbolised, to stacks.jsonl.
package cgoguardtrace

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	recordSize = 32
	// Segments grow: 64 KiB, 128 KiB, ... up to 16 MiB each, so that the many
	// short processes of a test suite cost little and long runs map seldom.
	firstShift  = 11                          // 2^11 records in the first segment
	growing     = 8                           // segments that double
	fullRecords = 1 << (firstShift + growing) // 16 MiB segments after that
	maxSegments = 1 << 12
	stackDepth  = 32
	// Stacks are sampled per site: the first ones, then one in stackEvery
	// (each allocation still has its exact site, so its exact Go line).
	stackFirst = 8
	stackEvery = 1024
	shards     = 64
)

// Record kinds, as the reader expects them. A record with extras is followed
// by them in the very next slot (both slots are reserved at once).
const (
	kindAlloc     = 1 // aux: size
	kindFree      = 2 // aux: size
	kindRealloc   = 3 // ptr: the new block; aux: its size
	kindViolation = 4 // aux: the violation code
	kindHistory   = 5 // after a violation: ptr: allocation and release sites; aux: their stacks
	kindGoroutine = 6 // after a sampled event: aux: the goroutine id
	kindMoved     = 7 // the block realloc released (ptr)
	kindUse       = 8 // a read of C memory (ptr), checked after the run
	kindSeen      = 9 // a pointer C returned (ptr)
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
	segs       [maxSegments]atomic.Pointer[[]byte]
	stackMu    sync.Mutex
	stackIDs   = map[[stackDepth]uintptr]uint32{}
	stackFile  *os.File
	siteCount  [1 << 16]atomic.Uint32
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
	if base == "" {
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

// segment returns the mapped segment k (of size records), mapping it on first use.
func segment(k, size uint64) []byte {
	if p := segs[k].Load(); p != nil {
		return *p
	}
	segMu.Lock()
	defer segMu.Unlock()
	if p := segs[k].Load(); p != nil {
		return *p
	}
	name := filepath.Join(dir, fmt.Sprintf("events.%04d", k))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil
	}
	defer f.Close()
	if err := f.Truncate(int64(size * recordSize)); err != nil {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size*recordSize), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	segs[k].Store(&b)
	go prefault(b)
	return b
}

// prefault takes the page faults of a new segment on another thread, ahead of
// the writers: it adds 0 to the kind word of each page's first record (an
// atomic write that changes nothing, even where a writer got there first).
func prefault(b []byte) {
	for off := 0; off+recordSize <= len(b); off += 4096 {
		atomic.AddUint32((*uint32)(unsafe.Pointer(&b[off+28])), 0)
	}
}

// reserve returns the first of n consecutive record slots.
func reserve(n uint64) uint64 {
	return next.Add(n) - n
}

// put fills a slot: time 0, ptr 8, aux 16, site 24, then stack (24 bits) and
// kind (8 bits) at 28, stored last so that a record torn by a crash reads as empty.
func put(slot uint64, kind uint32, ptr uintptr, aux int64, site int32, stack uint32) {
	k, i, size := place(slot)
	if k >= maxSegments {
		return
	}
	seg := segment(k, size)
	if seg == nil {
		return
	}
	r := seg[i*recordSize:][:recordSize]
	*(*int64)(unsafe.Pointer(&r[0])) = now.Load()
	*(*uint64)(unsafe.Pointer(&r[8])) = uint64(ptr)
	*(*int64)(unsafe.Pointer(&r[16])) = aux
	*(*int32)(unsafe.Pointer(&r[24])) = site
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&r[28])), stack&0xffffff|kind<<24)
}

// event writes one record, followed by its goroutine when its stack was sampled.
func event(kind uint32, ptr uintptr, aux int64, site int32, stack uint32, gid uint64) {
	if stack == 0 {
		put(reserve(1), kind, ptr, aux, site, 0)
		return
	}
	slot := reserve(2)
	put(slot, kind, ptr, aux, site, stack)
	put(slot+1, kindGoroutine, 0, int64(gid), site, stack)
}

// now is a coarse clock (nanoseconds since start, updated every millisecond):
// reading the real clock twice per allocation would cost more than the allocation.
var now atomic.Int64

func tick() {
	t := time.NewTicker(time.Millisecond)
	for range t.C {
		now.Store(int64(time.Since(start)))
	}
}

// stackFor returns the id of the current stack when this event samples one (0 otherwise), and its goroutine.
func stackFor(site int32, always bool) (uint32, uint64) {
	if !always && !fullStacks {
		n := siteCount[uint32(site)&(1<<16-1)].Add(1)
		if n > stackFirst && n%stackEvery != 0 {
			return 0, 0
		}
	}
	var pcs [stackDepth]uintptr
	runtime.Callers(4, pcs[:])
	stackMu.Lock()
	defer stackMu.Unlock()
	id, ok := stackIDs[pcs]
	if !ok {
		id = uint32(len(stackIDs) + 1)
		stackIDs[pcs] = id
		writeStack(id, pcs[:])
	}
	return id, goid()
}

func writeStack(id uint32, pcs []uintptr) {
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
	b := []byte(`{"id":` + strconv.FormatUint(uint64(id), 10) + `,"frames":[`)
	first := true
	for i, f := range all {
		// The closures the rewrite puts around a call sit on their caller's line: leave them out.
		if i+1 < len(all) && all[i+1].File == f.File && all[i+1].Line == f.Line && isClosure(f.Function) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
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
	stack, gid := stackFor(site, false)
	if guard {
		setLive(ptr, block{site: site, stack: stack, size: int64(size)})
	}
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
	stack, gid := stackFor(site, false)
	if guard {
		if b, double := markFreed(ptr, site, stack); double {
			violation(violDoubleFree, ptr, site, b)
			return false
		}
	}
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
	if guard {
		if b, freed := freedBlock(ptr); freed {
			violation(violUseFreed, ptr, site, b)
		}
		return p
	}
	put(reserve(1), kindUse, ptr, 0, site, 0)
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
	if guard {
		s := shardOf(ptr)
		s.Lock()
		if b, ok := s.m[ptr]; ok && b.freed {
			delete(s.m, ptr)
		}
		s.Unlock()
		return p
	}
	put(reserve(1), kindSeen, ptr, 0, -1, 0)
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
	stack, gid := stackFor(site, false)
	if o != 0 && o != n {
		if guard {
			markFreed(o, site, stack)
		}
		put(reserve(1), kindMoved, o, 0, site, 0)
	}
	if guard {
		setLive(n, block{site: site, stack: stack, size: int64(size)})
	}
	event(kindRealloc, n, int64(size), site, stack, gid)
	return p
}

// violation records a misuse with its own stack (always captured) and the block's history.
func violation(code int64, ptr uintptr, site int32, prev block) {
	stack, gid := stackFor(site, true)
	slot := reserve(3)
	put(slot, kindViolation, ptr, code, site, stack)
	put(slot+1, kindHistory, uintptr(uint64(uint32(prev.site))|uint64(uint32(prev.freeSite))<<32), int64(uint64(prev.stack)|uint64(prev.freeStack)<<32), site, stack)
	put(slot+2, kindGoroutine, 0, int64(gid), site, stack)
	if abortFirst {
		fmt.Fprintf(os.Stderr, "cgoguard trace: stopping at the first violation (--abort)\n")
		os.Exit(66)
	}
}
