package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"

	"github.com/p2psandbox/hub/realtime/sioclient"
)

// runWS is `loadgen ws <signup|connect|bursts|broadcast>`: the hub's load, spoken as Engine.IO v4
// / Socket.IO v5 over websocket and authenticated like the React app (a SuperTokens access token
// from the real sign-up, sent as auth.token).
func runWS(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: loadgen ws signup|connect|bursts|broadcast|chat|forum [flags]")
	}
	switch args[0] {
	case "signup":
		return wsSignup(args[1:])
	case "connect":
		return wsConnect(args[1:])
	case "bursts":
		return wsBursts(args[1:])
	case "broadcast":
		return wsBroadcast(args[1:])
	case "chat":
		return wsChat(args[1:])
	case "forum":
		return wsForum(args[1:])
	}
	return fmt.Errorf("loadgen ws: unknown mode %q", args[0])
}

// wsSignup signs n users up through POST /auth/signup (header mode) and writes one access token
// per line.
func wsSignup(args []string) error {
	fs := flag.NewFlagSet("ws signup", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "server base URL")
	n := fs.Int("n", 1000, "users to sign up")
	out := fs.String("out", "tokens.txt", "file to write the tokens to")
	conc := fs.Int("concurrency", 16, "parallel sign-ups")
	_ = fs.Parse(args)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	run := time.Now().UnixNano()
	var mu sync.Mutex
	var done, failed atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				tok, err := signUp(client, *url, fmt.Sprintf("load.%d.%d@example.com", run, i))
				if err != nil {
					if failed.Add(1) <= 3 {
						fmt.Fprintln(os.Stderr, "sign-up:", err)
					}
					continue
				}
				mu.Lock()
				fmt.Fprintln(f, tok)
				mu.Unlock()
				done.Add(1)
			}
		}()
	}
	start := time.Now()
	for i := range *n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("signed up %d users (%d failed) in %s\n", done.Load(), failed.Load(), time.Since(start).Round(time.Millisecond))
	return nil
}

func signUp(c *http.Client, base, email string) (string, error) {
	return formAuth(c, base+"/auth/signup", form(map[string]string{
		"email": email, "password": "Str0ng-pass", "firstName": "Load", "lastName": "Test",
		"organizationName": "Load Co " + email, "industry": "Electronics Manufacturing",
		"organizationSize": "small", "country": "Saudi Arabia", "city": "Riyadh",
	}))
}

func readTokens(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tokens in %s", path)
	}
	return out, sc.Err()
}

// dialer is shared by all clients: small buffers, as a browser's are irrelevant here.
var dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
	NetDialContext: spreadLoopback(16)}

// spreadLoopback dials a loopback server from n source addresses in turn (127.0.0.1 and up),
// each socket's port chosen by connect() for its whole address pair (IP_BIND_ADDRESS_NO_PORT).
// From one source address, connect() searches the range of local ports for one that is free
// towards the server, and with 15,000 and more clients held that search costs the load
// generator more CPU than the server spends on the handshake (it was half of its profile),
// on the cores the server shares: the last seconds of a connect phase measured the load
// generator. Real clients come from many addresses. Other servers are dialled as usual.
func spreadLoopback(n int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var next atomic.Uint32
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		ip := net.ParseIP(host)
		if err != nil || ip == nil || ip.To4() == nil || !ip.IsLoopback() {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		src := net.IPv4(127, 0, 0, byte(1+next.Add(1)%uint32(n)))
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			})
			return errors.Join(err, serr)
		}}
		return d.DialContext(ctx, network, addr)
	}
}

// dialOne connects one authenticated client, retrying as socket.io-client does when the
// connection drops before the namespace handshake completes.
func dialOne(ctx context.Context, url, token string, onEvent func(string, []any)) (*sioclient.Client, error) {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		c, err := sioclient.Dial(ctx, url, sioclient.Options{Auth: map[string]any{"token": token}, OnEvent: onEvent, Dialer: dialer})
		if err == nil {
			return c, nil
		}
		var ce *sioclient.ConnectError
		if errors.As(err, &ce) || ctx.Err() != nil {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// wsConnect holds many idle authenticated clients and reports the server's memory and
// goroutines per connection.
func wsConnect(args []string) error {
	fs := flag.NewFlagSet("ws connect", flag.ExitOnError)
	urls := fs.String("url", "http://127.0.0.1:8080", "server base URL(s), comma-separated; clients are spread over them")
	tokens := fs.String("tokens", "tokens.txt", "access tokens, one per line (reused round-robin)")
	n := fs.Int("conns", 1000, "clients")
	rate := fs.Int("rate", 1000, "new connections per second")
	hold := fs.Duration("hold", 10*time.Second, "how long to keep them connected")
	pid := fs.Int("pid", 0, "server process to sample (RSS, CPU)")
	metricsURL := fs.String("metrics", "", "server /metrics URL for go_goroutines (Go servers)")
	// A slow tail spread over the phase is per-handshake cost; one in a few seconds is a stall (a
	// collection, the machine).
	timeline := fs.Bool("timeline", false, "also print the handshakes' latency by the second they were due")
	profile := fs.String("cpuprofile", "", "write the load generator's own CPU profile of the connect phase here")
	_ = fs.Parse(args)
	toks, err := readTokens(*tokens)
	if err != nil {
		return err
	}
	targets := strings.Split(*urls, ",")
	ctx := context.Background()

	baseRSS, baseG := rssKiB(*pid), goroutines(*metricsURL)
	clients := make([]*sioclient.Client, *n)
	lat := make([]time.Duration, *n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0, self0 := cpuSeconds(*pid), cpuSeconds(os.Getpid())
	busy0, total0 := machineTicks()
	start := time.Now()
	tick := time.Second / time.Duration(max(*rate, 1))
	for i := range *n {
		due := start.Add(time.Duration(i) * tick)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			c, err := dialOne(ctx, targets[i%len(targets)], toks[i%len(toks)], func(string, []any) {})
			lat[i] = time.Since(t0)
			if err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "connect:", err)
				}
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	connected := time.Since(start)
	// The server's CPU over the connect phase, per handshake: unlike the latency percentiles it
	// does not depend on what else the shared machine is doing at that moment.
	cpu, self := cpuSeconds(*pid)-cpu0, cpuSeconds(os.Getpid())-self0
	busy1, total1 := machineTicks()
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	settle(2 * time.Second)
	peakRSS, peakG := rssKiB(*pid), goroutines(*metricsURL)
	time.Sleep(*hold)
	holdRSS := rssKiB(*pid)
	for _, c := range clients {
		if c != nil {
			_ = c.Close()
		}
	}
	afterG := waitGoroutines(*metricsURL, baseG, 60*time.Second)
	ok := int64(*n) - failed.Load()
	fmt.Printf("connected %d of %d clients in %s (%d failed)\n", ok, *n, connected.Round(time.Millisecond), failed.Load())
	printLatency("handshake", lat)
	if *timeline {
		dues := make([]int64, len(lat))
		for i := range dues {
			dues[i] = start.Add(time.Duration(i) * tick).UnixNano()
		}
		printTimeline(start.UnixNano(), dues, lat)
	}
	if *pid != 0 {
		per := float64(peakRSS-baseRSS) / float64(max(ok, 1))
		fmt.Printf("server CPU: %.2f s over %s: %.0f µs per handshake; the load generator's %.2f s; the machine's cores %.0f%% busy\n",
			cpu, connected.Round(time.Millisecond), 1e6*cpu/float64(max(ok, 1)), self, 100*float64(busy1-busy0)/float64(max(total1-total0, 1)))
		fmt.Printf("server RSS: %d KiB before, %d KiB connected, %d KiB after %s held: %.1f KiB per connection\n",
			baseRSS, peakRSS, holdRSS, *hold, per)
	}
	if *metricsURL != "" {
		fmt.Printf("server goroutines: %d before, %d connected (%.2f per connection), %d after all disconnected\n",
			baseG, peakG, float64(peakG-baseG)/float64(max(ok, 1)), afterG)
	}
	return nil
}

// wsBursts opens bursts of connections at once and counts handshakes that take more than 5 s.
func wsBursts(args []string) error {
	fs := flag.NewFlagSet("ws bursts", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "server base URL")
	tokens := fs.String("tokens", "tokens.txt", "access tokens, one per line")
	bursts := fs.Int("bursts", 10, "bursts")
	size := fs.Int("size", 5000, "connections per burst, all started at once")
	spread := fs.Duration("spread", 0, "start a burst's connections over this long instead of at once")
	stuck := fs.Duration("stuck", 5*time.Second, "a handshake slower than this counts as stuck")
	_ = fs.Parse(args)
	toks, err := readTokens(*tokens)
	if err != nil {
		return err
	}
	var all []time.Duration
	var stuckTotal, failedTotal int
	for b := range *bursts {
		lat := make([]time.Duration, *size)
		clients := make([]*sioclient.Client, *size)
		var failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for i := range *size {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if *spread > 0 {
					time.Sleep(time.Duration(i) * *spread / time.Duration(*size))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				t0 := time.Now()
				c, err := dialOne(ctx, *url, toks[(b**size+i)%len(toks)], func(string, []any) {})
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					return
				}
				clients[i] = c
			}()
		}
		wg.Wait()
		n := 0
		for _, d := range lat {
			if d > *stuck {
				n++
			}
		}
		slices.Sort(lat)
		fmt.Printf("burst %2d: %d connections in %s, failed %d, over %s: %d, p50 %s p99 %s max %s\n", b+1, *size,
			time.Since(start).Round(time.Millisecond), failed.Load(), *stuck, n, pct(lat, .5), pct(lat, .99), lat[len(lat)-1].Round(time.Millisecond))
		stuckTotal += n
		failedTotal += int(failed.Load())
		all = append(all, lat...)
		for _, c := range clients {
			if c != nil {
				_ = c.Close()
			}
		}
		settle(3 * time.Second)
	}
	fmt.Printf("total: %d handshakes, %d failed, %d over %s\n", len(all), failedTotal, stuckTotal, *stuck)
	printLatency("handshake", all)
	return nil
}

func printLatency(what string, lat []time.Duration) {
	s := slices.Clone(lat)
	slices.Sort(s)
	if len(s) == 0 {
		return
	}
	fmt.Printf("%s: p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", what, pct(s, .5), pct(s, .9), pct(s, .99), pct(s, .999), s[len(s)-1].Round(10*time.Microsecond))
}

// pct reads a percentile of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := max(0, min(int(float64(len(sorted))*p+0.5)-1, len(sorted)-1))
	return sorted[i].Round(10 * time.Microsecond)
}

// settle lets the server finish what the last step started (GC, closes) before sampling.
func settle(d time.Duration) { time.Sleep(d) }

// rssKiB reads a process's resident set size.
func rssKiB(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// machineTicks reads the machine's busy and total CPU time (/proc/stat, all cores): whether the
// server, the load generator and everything else together left the cores any idle time.
func machineTicks() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// cpuSeconds reads a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are the 14th and 15th.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100 // USER_HZ
}

func goroutines(metricsURL string) int64 {
	if metricsURL == "" {
		return 0
	}
	res, err := http.Get(metricsURL)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(rest, 64)
			return int64(n)
		}
	}
	return 0
}

// waitGoroutines polls until the server's goroutines are back to base (a few of slack for the
// scrape itself and timers) or the timeout passes, and returns the last count.
func waitGoroutines(metricsURL string, base int64, timeout time.Duration) int64 {
	if metricsURL == "" {
		return 0
	}
	deadline := time.Now().Add(timeout)
	for {
		g := goroutines(metricsURL)
		if g <= base+5 || time.Now().After(deadline) {
			return g
		}
		time.Sleep(500 * time.Millisecond)
	}
}
