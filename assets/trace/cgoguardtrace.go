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
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	recordSize  = 64
	segRecords  = 1 << 18 // 16 MiB per segment
	maxSegments = 1 << 12
	stackDepth  = 32
	// Stacks are sampled per site: the first ones, then one in stackEvery.
	stackFirst = 8
	stackEvery = 32
	shards     = 64
	freedKeep  = 1 << 16
)

// Event kinds, as the reader expects them.
const (
	kindAlloc     = 1
	kindFree      = 2
	kindRealloc   = 3 // ptr: the new block; old: the block it replaced
	kindViolation = 4
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
	live       [shards]struct {
		sync.Mutex
		m map[uintptr]block
	}
	freedMu   sync.Mutex
	freed     = map[uintptr]block{}
	freedRing [freedKeep]uintptr
	freedPos  int
)

type block struct {
	site  int32
	stack uint32
	size  int64
	// Where it was released, for blocks in the freed table.
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
	for i := range live {
		live[i].m = map[uintptr]block{}
	}
	abortFirst = os.Getenv("CGOGUARD_TRACE_ABORT") == "1"
	fullStacks = os.Getenv("CGOGUARD_TRACE_STACKS") == "all"
	start = time.Now()
	enabled = true
	Enabled = true
}

// segment returns the mapped segment k, mapping it on first use.
func segment(k uint64) []byte {
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
	if err := f.Truncate(segRecords * recordSize); err != nil {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, segRecords*recordSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	segs[k].Store(&b)
	return b
}

// write appends one record: the kind goes last, so a torn record reads as empty.
// Layout: time 0, ptr 8, size 16, site 24, stack 28, goroutine 32, old 40, extra 48 and 52, kind 56.
func write(kind uint32, ptr, old uintptr, size int64, site int32, stack uint32, gid uint64, extra1, extra2 uint32) {
	slot := next.Add(1) - 1
	k := slot / segRecords
	if k >= maxSegments {
		return
	}
	seg := segment(k)
	if seg == nil {
		return
	}
	r := seg[(slot%segRecords)*recordSize:][:recordSize]
	*(*int64)(unsafe.Pointer(&r[0])) = int64(time.Since(start))
	*(*uint64)(unsafe.Pointer(&r[8])) = uint64(ptr)
	*(*int64)(unsafe.Pointer(&r[16])) = size
	*(*int32)(unsafe.Pointer(&r[24])) = site
	*(*uint32)(unsafe.Pointer(&r[28])) = stack
	*(*uint64)(unsafe.Pointer(&r[32])) = gid
	*(*uint64)(unsafe.Pointer(&r[40])) = uint64(old)
	*(*uint32)(unsafe.Pointer(&r[48])) = extra1
	*(*uint32)(unsafe.Pointer(&r[52])) = extra2
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&r[56])), kind)
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
	const me = "cgoguardtrace."
	for i := 0; i+len(me) <= len(fn); i++ {
		if fn[i:i+len(me)] == me {
			return true
		}
	}
	return false
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

func shardOf(p uintptr) *struct {
	sync.Mutex
	m map[uintptr]block
} {
	return &live[(p>>4)%shards]
}

func pointer[P any](p P) uintptr {
	return *(*uintptr)(unsafe.Pointer(&p))
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
	s := shardOf(ptr)
	s.Lock()
	s.m[ptr] = block{site: site, stack: stack, size: int64(size)}
	s.Unlock()
	write(kindAlloc, ptr, 0, int64(size), site, stack, gid, 0, 0)
	return p
}

// Free records a release; it reports whether the release may go ahead (false: the
// block is not live and was freed before: a double free, reported and not done).
func Free[P any](p P, site int32) bool {
	if !enabled {
		return true
	}
	ptr := pointer(p)
	if ptr == 0 {
		return true
	}
	s := shardOf(ptr)
	s.Lock()
	b, ok := s.m[ptr]
	if ok {
		delete(s.m, ptr)
	}
	s.Unlock()
	if !ok {
		if prev, was := lookupFreed(ptr); was {
			violation(violDoubleFree, ptr, site, prev)
			return false
		}
		// Memory the trace did not see allocated (by C code, or not C memory): not ours to judge.
		return true
	}
	stack, gid := stackFor(site, false)
	b.freeSite, b.freeStack = site, stack
	remember(ptr, b)
	write(kindFree, ptr, 0, b.size, site, stack, gid, 0, 0)
	return true
}

// Use checks a read of C memory (C.GoString, C.GoBytes, unsafe.Slice) and returns the pointer.
func Use[P any](p P, site int32) P {
	if !enabled {
		return p
	}
	ptr := pointer(p)
	if ptr == 0 {
		return p
	}
	s := shardOf(ptr)
	s.Lock()
	_, ok := s.m[ptr]
	s.Unlock()
	if !ok {
		if prev, was := lookupFreed(ptr); was {
			violation(violUseFreed, ptr, site, prev)
		}
	}
	return p
}

// ReallocStart checks the block handed to realloc; ReallocDone records the move.
func ReallocStart[P any](p P, site int32) P {
	if !enabled {
		return p
	}
	ptr := pointer(p)
	if ptr == 0 {
		return p
	}
	s := shardOf(ptr)
	s.Lock()
	_, ok := s.m[ptr]
	s.Unlock()
	if !ok {
		if prev, was := lookupFreed(ptr); was {
			violation(violReallocFreed, ptr, site, prev)
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
	if o != 0 {
		s := shardOf(o)
		s.Lock()
		delete(s.m, o)
		s.Unlock()
	}
	stack, gid := stackFor(site, false)
	s := shardOf(n)
	s.Lock()
	s.m[n] = block{site: site, stack: stack, size: int64(size)}
	s.Unlock()
	write(kindRealloc, n, o, int64(size), site, stack, gid, 0, 0)
	return p
}

func remember(ptr uintptr, b block) {
	freedMu.Lock()
	if old := freedRing[freedPos]; old != 0 {
		delete(freed, old)
	}
	freedRing[freedPos] = ptr
	freedPos = (freedPos + 1) % freedKeep
	freed[ptr] = b
	freedMu.Unlock()
}

func lookupFreed(ptr uintptr) (block, bool) {
	freedMu.Lock()
	b, ok := freed[ptr]
	freedMu.Unlock()
	return b, ok
}

// violation records a misuse with its own stack (always captured) and the block's history.
func violation(code int64, ptr uintptr, site int32, prev block) {
	stack, gid := stackFor(site, true)
	// old: the block's allocation and release sites; extra: their stacks.
	sites := uintptr(uint64(uint32(prev.site)) | uint64(uint32(prev.freeSite))<<32)
	write(kindViolation, ptr, sites, code, site, stack, gid, prev.stack, prev.freeStack)
	if abortFirst {
		fmt.Fprintf(os.Stderr, "cgoguard trace: stopping at the first violation (--abort)\n")
		os.Exit(66)
	}
}
