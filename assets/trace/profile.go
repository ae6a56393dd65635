package cgoguardtrace

// The sampled C memory as a pprof profile (profile.proto, gzipped), with the
// sample types of Go's heap profile (alloc_objects, alloc_space,
// inuse_objects, inuse_space), so that `go tool pprof` reads
// /debug/cgoguard/heap as it reads /debug/pprof/heap. The protobuf writer
// covers the few field kinds profile.proto needs.

import (
	"bytes"
	"compress/gzip"
	"math"
	"time"
)

type protoBuf struct{ b []byte }

func (p *protoBuf) varint(x uint64) {
	for x >= 0x80 {
		p.b = append(p.b, byte(x)|0x80)
		x >>= 7
	}
	p.b = append(p.b, byte(x))
}

func (p *protoBuf) key(field, wire int) { p.varint(uint64(field)<<3 | uint64(wire)) }

func (p *protoBuf) uint64Field(field int, x uint64) {
	if x != 0 {
		p.key(field, 0)
		p.varint(x)
	}
}

func (p *protoBuf) bytesField(field int, b []byte) {
	p.key(field, 2)
	p.varint(uint64(len(b)))
	p.b = append(p.b, b...)
}

func (p *protoBuf) packed(field int, xs []uint64) {
	var sub protoBuf
	for _, x := range xs {
		sub.varint(x)
	}
	p.bytesField(field, sub.b)
}

func (p *protoBuf) message(field int, fill func(*protoBuf)) {
	var sub protoBuf
	fill(&sub)
	p.bytesField(field, sub.b)
}

// heapProfile encodes what profileSamples returns.
func heapProfile(samples []stackSample, rate int64, now time.Time) []byte {
	strs := map[string]uint64{"": 0}
	table := []string{""}
	str := func(s string) uint64 {
		if i, ok := strs[s]; ok {
			return i
		}
		strs[s] = uint64(len(table))
		table = append(table, s)
		return strs[s]
	}
	type fnKey struct{ name, file string }
	type locKey struct {
		fn   fnKey
		line int
	}
	fns := map[fnKey]uint64{}
	locs := map[locKey]uint64{}
	var out protoBuf
	valueType := func(field int, typ, unit string) {
		out.message(field, func(m *protoBuf) {
			m.uint64Field(1, str(typ))
			m.uint64Field(2, str(unit))
		})
	}
	valueType(1, "alloc_objects", "count")
	valueType(1, "alloc_space", "bytes")
	valueType(1, "inuse_objects", "count")
	valueType(1, "inuse_space", "bytes")
	var locations, functions protoBuf
	for _, s := range samples {
		var ids []uint64
		for _, f := range stackFrames(s.stack) {
			fk := fnKey{f.Function, f.File}
			fid, ok := fns[fk]
			if !ok {
				fid = uint64(len(fns) + 1)
				fns[fk] = fid
				functions.message(5, func(m *protoBuf) {
					m.uint64Field(1, fid)
					m.uint64Field(2, str(f.Function))
					m.uint64Field(3, str(f.Function))
					m.uint64Field(4, str(f.File))
				})
			}
			lk := locKey{fk, f.Line}
			lid, ok := locs[lk]
			if !ok {
				lid = uint64(len(locs) + 1)
				locs[lk] = lid
				locations.message(4, func(m *protoBuf) {
					m.uint64Field(1, lid)
					m.message(4, func(l *protoBuf) {
						l.uint64Field(1, fid)
						l.uint64Field(2, uint64(f.Line))
					})
				})
			}
			ids = append(ids, lid)
		}
		round := func(x float64) uint64 { return uint64(int64(math.Round(math.Max(0, x)))) }
		st := s.stat
		out.message(2, func(m *protoBuf) {
			m.packed(1, ids)
			m.packed(2, []uint64{round(st.allocObjects), round(st.allocBytes), round(st.inuseObjects), round(st.inuseBytes)})
		})
	}
	out.b = append(out.b, locations.b...)
	out.b = append(out.b, functions.b...)
	out.uint64Field(9, uint64(now.UnixNano()))
	valueType(11, "space", "bytes")
	out.uint64Field(12, uint64(rate))
	comment := str("C memory by Go allocation stack (cgoguard build)")
	out.uint64Field(13, comment)
	out.uint64Field(14, str("inuse_space"))
	for _, s := range table {
		out.bytesField(6, []byte(s))
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(out.b)
	w.Close()
	return z.Bytes()
}
