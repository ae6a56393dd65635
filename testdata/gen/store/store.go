// A small cgo wrapper for the test generator: a constructor/closer pair, a
// method that needs a receiver (with a leak on an error path), a second type
// made by a method, an argument type the generator cannot build, a function
// that only borrows Go memory, and one that hands out C memory with the Go
// function that releases it.
package store

/*
#include <stdlib.h>
#include <string.h>

typedef struct store { char *name; int items; } store;
typedef struct cursor { store *s; int at; } cursor;
typedef struct snapshot { int items; } snapshot;

static store *store_open(const char *name) {
	store *s = malloc(sizeof *s);
	if (s == NULL) return NULL;
	s->name = strdup(name);
	s->items = 0;
	return s;
}
static void store_close(store *s) { free(s->name); free(s); }
static int store_put(store *s, const char *key, int n) { (void)key; s->items += n; return 0; }
static cursor *cursor_new(store *s) { cursor *c = malloc(sizeof *c); c->s = s; c->at = 0; return c; }
static void cursor_free(cursor *c) { free(c); }
static unsigned int checksum(const unsigned char *p, size_t n) {
	unsigned int sum = 0;
	for (size_t i = 0; i < n; i++) sum = sum * 31 + p[i];
	return sum;
}
static int clamp(int v) { return v < 0 ? 0 : v; }
static snapshot *snapshot_take(store *s) { snapshot *p = malloc(sizeof *p); if (p) p->items = s->items; return p; }
static void snapshot_free(snapshot *p) { free(p); }
static int snapshot_items(snapshot *p) { return p->items; }
static void notify(const char *event) { (void)event; }
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// Store owns a C store.
type Store struct {
	s *C.store
}

// NewStore opens a store; Close releases it.
func NewStore(name string) (*Store, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	s := C.store_open(cs)
	if s == nil {
		return nil, errors.New("store: out of memory")
	}
	return &Store{s: s}, nil
}

// Close releases the store.
func (s *Store) Close() error {
	if s.s != nil {
		C.store_close(s.s)
		s.s = nil
	}
	return nil
}

// Put adds n items under key. A negative n returns before the key is freed.
func (s *Store) Put(key string, n int) error {
	ck := C.CString(key) // want "C memory from C.CString is not freed on the path that returns"
	if n < 0 {
		return errors.New("store: negative count")
	}
	defer C.free(unsafe.Pointer(ck))
	if C.store_put(s.s, ck, C.int(n)) != 0 {
		return errors.New("store: put failed")
	}
	return nil
}

// Cursor walks a store; Release frees it.
type Cursor struct {
	c *C.cursor
}

// Cursor opens a cursor on the store.
func (s *Store) Cursor() (*Cursor, error) {
	c := C.cursor_new(s.s)
	if c == nil {
		return nil, errors.New("store: out of memory")
	}
	return &Cursor{c: c}, nil
}

// Release frees the cursor.
func (c *Cursor) Release() {
	C.cursor_free(c.c)
	c.c = nil
}

// Position says where the cursor is.
func (c *Cursor) Position() int {
	return int(c.c.at)
}

// Snapshot is handed out behind an interface, as database/sql drivers hand out their connections.
type Snapshot struct {
	p *C.snapshot
}

// Snapshot copies the store's counters; the result is a *Snapshot.
func (s *Store) Snapshot() (io.Closer, error) {
	p := C.snapshot_take(s.s)
	if p == nil {
		return nil, errors.New("store: out of memory")
	}
	return &Snapshot{p: p}, nil
}

// Close releases the snapshot.
func (n *Snapshot) Close() error {
	C.snapshot_free(n.p)
	n.p = nil
	return nil
}

// Items says how many items the store had.
func (n *Snapshot) Items() int {
	return int(C.snapshot_items(n.p))
}

// Raw wraps a C store the caller already has: only C can give it one.
type Raw struct {
	s *C.store
}

// WrapRaw wraps p.
func WrapRaw(p unsafe.Pointer) *Raw {
	return &Raw{s: (*C.store)(p)}
}

// Items reads the wrapped store in C.
func (r *Raw) Items() int {
	return int(C.store_put(r.s, nil, 0))
}

// Watch sends the store's events on ch: a channel, which the generator does not build.
func (s *Store) Watch(ch chan<- string) {
	ev := C.CString("watch")
	defer C.free(unsafe.Pointer(ev))
	C.notify(ev)
	ch <- "watching"
}

// Checksum only borrows b: C reads it during the call.
func Checksum(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(C.checksum((*C.uchar)(unsafe.Pointer(&b[0])), C.size_t(len(b))))
}

// Clamp takes a C number, which a test writes as an untyped constant.
func Clamp(v C.int) int {
	return int(C.clamp(v))
}

// Scale passes v to C; label only names the result, so a fuzz target fuzzes v alone.
func Scale(v int, label string) string {
	return fmt.Sprintf("%s=%d", label, int(C.clamp(C.int(v))))
}

// Pair holds two values: a generic type, which a test cannot write without choosing its type argument.
type Pair[T any] struct {
	A, B T
}

// SumPair adds the pair in C.
func SumPair(p Pair[int32]) int {
	return int(C.clamp(C.int(p.A + p.B)))
}

// Dup copies s into C memory that FreeDup releases.
func Dup(s string) unsafe.Pointer {
	return unsafe.Pointer(C.CString(s))
}

// FreeDup releases what Dup returned.
func FreeDup(p unsafe.Pointer) {
	C.free(p)
}
