package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080/health/ready", "URL to request")
	method := fs.String("method", http.MethodGet, "HTTP method")
	body := fs.String("body", "", "request body (sent with Content-Type: application/json)")
	rate := fs.Int("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 30*time.Second, "how long to send (measured part)")
	warmup := fs.Duration("warmup", 3*time.Second, "load sent first and not measured")
	conns := fs.Int("conns", 64, "concurrent connections")
	timeout := fs.Duration("timeout", 5*time.Second, "per-request timeout")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var hdrs headers
	fs.Var(&hdrs, "H", "request header 'Name: value' (repeatable)")
	_ = fs.Parse(args)
	if *rate <= 0 || *duration <= 0 || *conns <= 0 {
		return errors.New("rate, duration and conns must be positive")
	}

	client := &http.Client{
		Timeout: *timeout,
		Transport: &http.Transport{
			MaxIdleConns:        *conns,
			MaxIdleConnsPerHost: *conns,
			MaxConnsPerHost:     *conns,
			IdleConnTimeout:     time.Minute,
		},
	}
	do := func(ctx context.Context) string {
		var rd io.Reader
		if *body != "" {
			rd = strings.NewReader(*body)
		}
		req, err := http.NewRequestWithContext(ctx, *method, *url, rd)
		if err != nil {
			return "error"
		}
		if *body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for _, h := range hdrs {
			if k, v, ok := strings.Cut(h, ":"); ok {
				req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		res, err := client.Do(req)
		if err != nil {
			return "error"
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return strconv.Itoa(res.StatusCode)
	}

	if *warmup > 0 {
		openLoop(*rate, *warmup, *conns, func(time.Time) { do(context.Background()) })
	}
	rec := newRecorder(*rate * int(duration.Seconds()+1))
	elapsed := openLoop(*rate, *duration, *conns, func(due time.Time) {
		outcome := do(context.Background())
		rec.add(time.Since(due), outcome)
	})
	rec.report(*method+" "+*url, *rate, elapsed).print(os.Stdout, *asJSON)
	return nil
}

// openLoop calls fn rate times a second for d from a pool of workers, passing each call the time
// it was due. Calls that cannot start on time queue up and their wait counts in their latency.
func openLoop(rate int, d time.Duration, workers int, fn func(due time.Time)) time.Duration {
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	due := make(chan time.Time, total)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for t := range due {
				fn(t)
			}
		})
	}
	start := time.Now()
	for i := range total {
		next := start.Add(time.Duration(i) * interval)
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		due <- next
	}
	close(due)
	wg.Wait()
	return time.Since(start)
}
