package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2psandbox/hub/realtime/sioclient"
)

// mixedOp is one kind of thing a user does, with its share of the load.
type mixedOp struct {
	name   string
	weight int
	do     func(ctx context.Context, u int) error
}

// runMixed is issue 15's mixed load: -users people signed in at once, each holding a websocket
// (as the frontend does), doing what people do (browse the forum and the library, open a topic,
// search, look at their dashboard, reply, chat) at -rate actions per second in all, open loop.
// Each action is timed from when it was due; the report gives each kind's percentiles, the
// whole's, and the errors. -writers of the users confirm their address (posting and chatting
// need it) and reply and chat; the others read. Run it against a development server that
// `loadgen seed` filled (scripts/perf-mixed.sh does both).
func runMixed(args []string) error {
	fs := flag.NewFlagSet("mixed", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server base URL (REST and every socket)")
	nUsers := fs.Int("users", 1000, "users signed in at once, one websocket each")
	writers := fs.Int("writers", 100, "of them, users with a confirmed address who reply and chat (even)")
	rate := fs.Int("rate", 200, "actions per second, all users together")
	duration := fs.Duration("duration", 60*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 5*time.Second, "load sent first and not measured")
	pid := fs.Int("pid", 0, "server process to sample (CPU)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	_ = fs.Parse(args)
	*writers = max(2, min(*writers, *nUsers)) &^ 1

	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	start := time.Now()
	ws, err := chatUsers(httpc, *base, *writers)
	if err != nil {
		return fmt.Errorf("signing the writers up: %w", err)
	}
	readers, err := signUpViewers(httpc, *base, *nUsers-*writers)
	if err != nil {
		return err
	}
	tokens := make([]string, 0, *nUsers)
	for _, w := range ws {
		tokens = append(tokens, w.token)
	}
	tokens = append(tokens, readers...)
	// Writers chat in pairs; what there is to open comes from the seeded server's lists.
	convs := make([]string, *writers/2)
	for i := range convs {
		if convs[i], err = startConversation(httpc, *base, ws[2*i], ws[2*i+1]); err != nil {
			return err
		}
	}
	topics, err := listIDs(httpc, *base+"/api/v1/forum/topics?limit=50", tokens[0])
	if err != nil || len(topics) == 0 {
		return fmt.Errorf("listing topics (is the server seeded? run loadgen seed): %v", err)
	}
	useCases, err := listIDs(httpc, *base+"/api/v1/use-cases?limit=50", tokens[0])
	if err != nil {
		return fmt.Errorf("listing use cases: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clients := make([]*sioclient.Client, len(tokens))
	var dialErr atomic.Value
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i, tok := range tokens {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := dialOne(ctx, *base, tok, nil)
			if err != nil {
				dialErr.Store(err)
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	if err, _ := dialErr.Load().(error); err != nil {
		return fmt.Errorf("connecting the users' sockets: %w", err)
	}
	fmt.Printf("%d users (%d writers) signed in with a socket each, %d conversations, %d topics and %d use cases to open, in %s\n",
		len(tokens), *writers, len(convs), len(topics), len(useCases), time.Since(start).Round(time.Millisecond))

	get := func(path string) func(context.Context, int) error {
		return func(ctx context.Context, u int) error {
			return call(ctx, httpc, http.MethodGet, *base+path, tokens[u], nil)
		}
	}
	pick := func(ids []string) string { return ids[rand.IntN(len(ids))] }
	words := []string{"maintenance", "quality", "sensor", "energy", "الصيانة", "الجودة", "vibration", "automation", "inspection", "OEE"}
	var sent atomic.Int64
	ops := []mixedOp{
		{"forum-list", 20, get("/api/v1/forum/topics?limit=20")},
		{"topic", 15, func(ctx context.Context, u int) error {
			return call(ctx, httpc, http.MethodGet, *base+"/api/v1/forum/topics/"+pick(topics), tokens[u], nil)
		}},
		{"library", 12, get("/api/v1/use-cases?limit=12")},
		{"use-case", 8, func(ctx context.Context, u int) error {
			if len(useCases) == 0 {
				return call(ctx, httpc, http.MethodGet, *base+"/api/v1/use-cases?limit=12", tokens[u], nil)
			}
			return call(ctx, httpc, http.MethodGet, *base+"/api/v1/use-cases/"+pick(useCases), tokens[u], nil)
		}},
		{"search", 12, func(ctx context.Context, u int) error {
			return call(ctx, httpc, http.MethodGet, *base+"/api/v1/search?q="+url.QueryEscape(pick(words)), tokens[u], nil)
		}},
		{"dashboard", 12, get("/api/v1/dashboard")},
		{"notifications", 6, get("/api/v1/notifications?limit=20")},
		{"reply", 5, func(ctx context.Context, u int) error {
			w := u % *writers
			body, _ := json.Marshal(map[string]string{"content": fmt.Sprintf("From the floor: %d", sent.Add(1))})
			return call(ctx, httpc, http.MethodPost, *base+"/api/v1/forum/topics/"+pick(topics)+"/replies", tokens[w], body)
		}},
		{"chat", 10, func(ctx context.Context, u int) error {
			w := u % *writers
			ack, err := clients[w].EmitWithAck(ctx, "message:send", map[string]any{
				"conversationId": convs[w/2], "clientId": fmt.Sprintf("mixed-%d", sent.Add(1)), "content": "Shift report is in.",
			})
			if err != nil {
				return err
			}
			if len(ack) == 0 || ack[0].(map[string]any)["ok"] != true {
				return fmt.Errorf("message:send: %v", ack)
			}
			return nil
		}},
	}
	var table []int
	for i, op := range ops {
		for range op.weight {
			table = append(table, i)
		}
	}

	var (
		mu    sync.Mutex
		lat   = make([][]time.Duration, len(ops))
		errs  = make([]int, len(ops))
		shown atomic.Int64
	)
	cpu0 := cpuSeconds(*pid)
	measureFrom := time.Now().Add(*warmup)
	elapsed := openLoop(*rate, *warmup+*duration, 512, func(due time.Time) {
		i := table[rand.IntN(len(table))]
		u := rand.IntN(len(tokens))
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := ops[i].do(octx, u)
		cancel()
		d := time.Since(due)
		if due.Before(measureFrom) {
			return
		}
		mu.Lock()
		if err != nil {
			errs[i]++
		} else {
			lat[i] = append(lat[i], d)
		}
		mu.Unlock()
		if err != nil && shown.Add(1) <= 5 {
			fmt.Fprintln(os.Stderr, ops[i].name+":", err)
		}
	})
	cpu := cpuSeconds(*pid) - cpu0
	return printMixed(ops, lat, errs, *rate, *nUsers, elapsed-*warmup, cpu, *pid != 0, *asJSON)
}

// mixedReport is what a mixed run prints.
type mixedReport struct {
	Users      int                           `json:"users"`
	Rate       int                           `json:"rate"`
	Duration   string                        `json:"duration"`
	Actions    int                           `json:"actions"`
	Errors     int                           `json:"errors"`
	LatencyMs  map[string]float64            `json:"latencyMs"`
	Kinds      map[string]map[string]float64 `json:"kinds"`
	ServerCPU  float64                       `json:"serverCpuCores,omitempty"`
	KindErrors map[string]int                `json:"kindErrors"`
}

func printMixed(ops []mixedOp, lat [][]time.Duration, errs []int, rate, users int, d time.Duration, cpu float64, sampled, asJSON bool) error {
	percentiles := func(l []time.Duration) map[string]float64 {
		slices.Sort(l)
		ms := func(p float64) float64 { return float64(pct(l, p).Microseconds()) / 1000 }
		return map[string]float64{"p50": ms(.50), "p95": ms(.95), "p99": ms(.99), "max": ms(1), "n": float64(len(l))}
	}
	rep := mixedReport{Users: users, Rate: rate, Duration: d.Round(time.Millisecond).String(),
		Kinds: map[string]map[string]float64{}, KindErrors: map[string]int{}}
	var all []time.Duration
	for i, op := range ops {
		all = append(all, lat[i]...)
		rep.Kinds[op.name] = percentiles(lat[i])
		rep.Errors += errs[i]
		if errs[i] > 0 {
			rep.KindErrors[op.name] = errs[i]
		}
	}
	rep.Actions = len(all) + rep.Errors
	rep.LatencyMs = percentiles(all)
	if sampled && d > 0 {
		rep.ServerCPU = cpu / d.Seconds()
	}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(rep)
	}
	fmt.Printf("mixed: %d users, %d actions/s for %s: %d actions, %d errors; p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.0f ms",
		users, rate, rep.Duration, rep.Actions, rep.Errors, rep.LatencyMs["p50"], rep.LatencyMs["p95"], rep.LatencyMs["p99"], rep.LatencyMs["max"])
	if sampled {
		fmt.Printf("; server CPU %.2f cores", rep.ServerCPU)
	}
	fmt.Println()
	names := make([]string, 0, len(rep.Kinds))
	for n := range rep.Kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k := rep.Kinds[n]
		fmt.Printf("  %-14s n=%-6.0f p50 %6.1f  p95 %6.1f  p99 %6.1f  max %6.0f ms  errors %d\n", n, k["n"], k["p50"], k["p95"], k["p99"], k["max"], rep.KindErrors[n])
	}
	if rep.Errors > 0 {
		return fmt.Errorf("%d actions failed", rep.Errors)
	}
	return nil
}

// call sends an authenticated request and fails on a status of 300 or more.
func call(ctx context.Context, c *http.Client, method, u, token string, body []byte) error {
	req, err := authRequest(ctx, method, u, token, body)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s", method, u, res.Status)
	}
	return nil
}

// listIDs reads the ids of a list's items.
func listIDs(c *http.Client, u, token string) ([]string, error) {
	res, err := authed(c, http.MethodGet, u, token, nil)
	if err != nil {
		return nil, err
	}
	var page struct {
		Items []struct{ ID string } `json:"items"`
	}
	if err := json.Unmarshal(res.body, &page); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(page.Items))
	for _, it := range page.Items {
		ids = append(ids, it.ID)
	}
	return ids, nil
}
