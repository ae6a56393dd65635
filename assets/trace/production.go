package cgoguardtrace

// Added only by `cgoguard build`: switches the runtime to sampling mode and
// serves what it knows over HTTP.
//
//	/debug/cgoguard/heap  C memory by Go stack, a pprof profile (gzipped profile.proto)
//	/debug/cgoguard/vars  counters (allocations, releases, bytes, per site) and the Go
//	                      runtime's own memory figures, as JSON
//
// They join http.DefaultServeMux when the program imports net/http/pprof
// (the build says so in productionConfig), and are served on their own
// address when CGOGUARD_LISTEN is set (":0" picks a port; the address is
// printed on stderr). CGOGUARD_SAMPLE_RATE sets the mean bytes between samples.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/metrics"
	"strconv"
	"time"
)

// siteInfo is where an allocation or release site is, as the build numbered it.
type siteInfo struct {
	Call string
	File string
	Line int
}

// buildConfig is written by `cgoguard build` into the overlay (productionConfig).
type buildConfig struct {
	sampleRate int64
	defaultMux bool
	sites      []siteInfo
}

const (
	heapPath = "/debug/cgoguard/heap"
	varsPath = "/debug/cgoguard/vars"
)

// A variable's initialiser runs before any init function of the package, so
// the trace's own init sees sampling on and stays out.
var production = startProduction()

func startProduction() bool {
	rate := productionConfig.sampleRate
	if v := os.Getenv("CGOGUARD_SAMPLE_RATE"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			rate = n
		} else {
			fmt.Fprintf(os.Stderr, "cgoguard: CGOGUARD_SAMPLE_RATE=%q is not a positive number of bytes; using %d\n", v, rate)
		}
	}
	startSampling(len(productionConfig.sites), rate)
	if productionConfig.defaultMux {
		http.HandleFunc(heapPath, serveHeap)
		http.HandleFunc(varsPath, serveVars)
	}
	if addr := os.Getenv("CGOGUARD_LISTEN"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cgoguard: cannot listen on CGOGUARD_LISTEN=%s: %v\n", addr, err)
			return true
		}
		fmt.Fprintf(os.Stderr, "cgoguard: serving %s and %s on %s\n", heapPath, varsPath, ln.Addr())
		mux := http.NewServeMux()
		mux.HandleFunc(heapPath, serveHeap)
		mux.HandleFunc(varsPath, serveVars)
		go (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	}
	return true
}

func serveHeap(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="cgoguard-heap.pb.gz"`)
	w.Write(heapProfile(profileSamples(), sampleRate, time.Now()))
}

type siteVars struct {
	Call        string `json:"call"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Allocations int64  `json:"allocations"`
	Bytes       int64  `json:"bytes"`
	Frees       int64  `json:"frees"`
}

type cVars struct {
	SampleRate     int64      `json:"sampleRate"`
	Allocations    int64      `json:"allocations"`
	Frees          int64      `json:"frees"`
	AllocatedBytes int64      `json:"allocatedBytes"`
	LiveObjects    int64      `json:"liveObjects"`
	LiveBytes      int64      `json:"liveBytes"`
	Sites          []siteVars `json:"sites"`
}

// goVars are the Go runtime's memory figures (runtime/metrics).
type goVars struct {
	TotalBytes    uint64 `json:"totalBytes"`
	ReleasedBytes uint64 `json:"releasedBytes"`
	HeapBytes     uint64 `json:"heapObjectsBytes"`
	Goroutines    uint64 `json:"goroutines"`
}

func serveVars(w http.ResponseWriter, r *http.Request) {
	t := countTotals()
	c := cVars{SampleRate: sampleRate, Allocations: t.Allocations, Frees: t.Frees, AllocatedBytes: t.AllocatedBytes, LiveObjects: t.Allocations - t.Frees, LiveBytes: int64(t.LiveBytes + 0.5)}
	for i, s := range productionConfig.sites {
		k := &siteCounters[i]
		if n, f := k.allocs.Load(), k.frees.Load(); n != 0 || f != 0 {
			c.Sites = append(c.Sites, siteVars{s.Call, s.File, s.Line, n, k.bytes.Load(), f})
		}
	}
	ms := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}, {Name: "/sched/goroutines:goroutines"}}
	metrics.Read(ms)
	u := func(i int) uint64 {
		if ms[i].Value.Kind() == metrics.KindUint64 {
			return ms[i].Value.Uint64()
		}
		return 0
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		C  cVars  `json:"cgoguard"`
		Go goVars `json:"go"`
	}{c, goVars{u(0), u(1), u(2), u(3)}})
}
