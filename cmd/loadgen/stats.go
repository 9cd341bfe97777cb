package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// recorder collects latencies and outcomes from many goroutines.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	outcomes  map[string]int
}

func newRecorder(capacity int) *recorder {
	return &recorder{latencies: make([]time.Duration, 0, capacity), outcomes: map[string]int{}}
}

func (r *recorder) add(d time.Duration, outcome string) {
	r.mu.Lock()
	r.latencies = append(r.latencies, d)
	r.outcomes[outcome]++
	r.mu.Unlock()
}

// Report is what a run prints.
type Report struct {
	Target    string             `json:"target"`
	Rate      int                `json:"rate"`
	Duration  string             `json:"duration"`
	Requests  int                `json:"requests"`
	Achieved  float64            `json:"achievedPerSecond"`
	Outcomes  map[string]int     `json:"outcomes"`
	LatencyMs map[string]float64 `json:"latencyMs"`
}

func (r *recorder) report(target string, rate int, elapsed time.Duration) Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.latencies)
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(float64(len(lat))*p+0.5) - 1
		i = max(0, min(i, len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	mean := 0.0
	if len(lat) > 0 {
		mean = float64((sum / time.Duration(len(lat))).Microseconds()) / 1000
	}
	return Report{
		Target:   target,
		Rate:     rate,
		Duration: elapsed.Round(time.Millisecond).String(),
		Requests: len(lat),
		Achieved: float64(len(lat)) / elapsed.Seconds(),
		Outcomes: maps.Clone(r.outcomes),
		LatencyMs: map[string]float64{
			"mean": mean, "p50": pct(.50), "p90": pct(.90), "p95": pct(.95),
			"p99": pct(.99), "p99.9": pct(.999), "max": pct(1),
		},
	}
}

func (rep Report) print(w io.Writer, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	fmt.Fprintf(w, "target    %s\n", rep.Target)
	fmt.Fprintf(w, "rate      %d/s for %s: %d requests, %.1f/s achieved\n", rep.Rate, rep.Duration, rep.Requests, rep.Achieved)
	keys := make([]string, 0, len(rep.Outcomes))
	for k := range rep.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, rep.Outcomes[k]))
	}
	fmt.Fprintf(w, "outcomes  %s\n", strings.Join(parts, " "))
	l := rep.LatencyMs
	fmt.Fprintf(w, "latency   mean %.3fms  p50 %.3fms  p90 %.3fms  p95 %.3fms  p99 %.3fms  p99.9 %.3fms  max %.3fms\n",
		l["mean"], l["p50"], l["p90"], l["p95"], l["p99"], l["p99.9"], l["max"])
}
