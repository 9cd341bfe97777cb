package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2psandbox/hub/realtime/sioclient"
)

// wsBroadcast measures room broadcasts: members join one room (spread over the given nodes), then
// one member at a time sends typing:start, which the server relays to the rest of the room, and
// the time until the last member has it is recorded. typing:stop follows each round (also a
// broadcast, counted in the CPU per broadcast).
func wsBroadcast(args []string) error {
	fs := flag.NewFlagSet("ws broadcast", flag.ExitOnError)
	urls := fs.String("url", "http://127.0.0.1:8080", "server base URL(s), comma-separated; members are spread over them")
	tokens := fs.String("tokens", "tokens.txt", "access tokens, one per line")
	members := fs.Int("members", 2000, "room members")
	room := fs.String("room", "load:bench", "room to join (the server's test environment opens the load kind)")
	rounds := fs.Int("count", 200, "broadcasts to measure")
	interval := fs.Duration("interval", 100*time.Millisecond, "pause between rounds")
	pids := fs.String("pid", "", "server process ids, comma-separated, for the CPU per broadcast")
	_ = fs.Parse(args)
	toks, err := readTokens(*tokens)
	if err != nil {
		return err
	}
	if len(toks) < *members {
		fmt.Fprintf(os.Stderr, "note: %d tokens for %d members; some users have several sockets\n", len(toks), *members)
	}
	targets := strings.Split(*urls, ",")

	// Per round: how many members still wait, when it started, every delivery's latency.
	var (
		waiting   atomic.Int64
		t0        atomic.Int64 // unix nanos of the round's send
		doneC     = make(chan struct{}, 1)
		mu        sync.Mutex
		delivered []time.Duration
		last      time.Duration
	)
	onEvent := func(name string, _ []any) {
		if name != "typing:start" {
			return
		}
		d := time.Duration(time.Now().UnixNano() - t0.Load())
		mu.Lock()
		delivered = append(delivered, d)
		last = max(last, d)
		mu.Unlock()
		if waiting.Add(-1) == 0 {
			select {
			case doneC <- struct{}{}:
			default:
			}
		}
	}
	clients := make([]*sioclient.Client, *members)
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 200)
	for i := range *members {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := dialOne(ctx, targets[i%len(targets)], toks[i%len(toks)], onEvent)
			if err != nil {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "connect:", err)
				return
			}
			res, err := c.EmitWithAck(ctx, "room:join", map[string]any{"room": *room})
			if err != nil || len(res) == 0 {
				failed.Add(1)
				return
			}
			if m, _ := res[0].(map[string]any); m["ok"] != true {
				failed.Add(1)
				fmt.Fprintln(os.Stderr, "join:", res[0])
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		return fmt.Errorf("%d members failed to connect or join", failed.Load())
	}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	fmt.Printf("%d members in %s over %d node(s)\n", *members, *room, len(targets))

	var pidList []int
	for _, p := range strings.Split(*pids, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			pidList = append(pidList, n)
		}
	}
	cpu := func() float64 {
		var s float64
		for _, p := range pidList {
			s += cpuSeconds(p)
		}
		return s
	}
	toAll := make([]time.Duration, 0, *rounds)
	var timeouts int
	cpuStart, wallStart := cpu(), time.Now()
	for r := range *rounds {
		sender := clients[r%len(clients)]
		mu.Lock()
		last = 0
		mu.Unlock()
		waiting.Store(int64(*members - 1))
		t0.Store(time.Now().UnixNano())
		if err := sender.Emit("typing:start", map[string]any{"room": *room}); err != nil {
			return err
		}
		select {
		case <-doneC:
			mu.Lock()
			toAll = append(toAll, last)
			mu.Unlock()
		case <-time.After(10 * time.Second):
			timeouts++
		}
		if err := sender.Emit("typing:stop", map[string]any{"room": *room}); err != nil {
			return err
		}
		time.Sleep(*interval)
	}
	cpuUsed, wall := cpu()-cpuStart, time.Since(wallStart)
	if len(toAll) == 0 {
		return errors.New("no broadcast reached every member")
	}
	slices.Sort(toAll)
	mu.Lock()
	slices.Sort(delivered)
	mu.Unlock()
	fmt.Printf("broadcasts: %d measured, %d timed out (10 s)\n", len(toAll), timeouts)
	fmt.Printf("time until every member has it: p50 %s  p90 %s  p99 %s  max %s\n", pct(toAll, .5), pct(toAll, .9), pct(toAll, .99), toAll[len(toAll)-1])
	fmt.Printf("per delivery: p50 %s  p99 %s (%d deliveries)\n", pct(delivered, .5), pct(delivered, .99), len(delivered))
	if len(pidList) > 0 {
		n := float64(2 * *rounds)
		fmt.Printf("server CPU: %.2f s over %s for %d broadcasts (start+stop) to %d members: %.2f ms per broadcast\n",
			cpuUsed, wall.Round(time.Millisecond), 2**rounds, *members, cpuUsed/n*1000)
	}
	return nil
}
