package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2psandbox/hub/realtime/sioclient"
)

// wsForum measures a forum reply's fan-out to the viewers of its topic (issue 12: a reply to a
// topic with 1,000 viewers in its room reaches all of them, p99 under 100 ms). A few confirmed
// posters create a topic; viewers (one user per socket unless -users says fewer) connect and
// join topic:<id>; replies are then posted over REST at a fixed rate and each is timed from the
// moment its POST was sent until each viewer's socket has its post:new. A delivery that has not
// arrived within -grace after the last reply is counted missed. It needs a development server
// (posters confirm their address through /dev/outbox, as posting requires).
func wsForum(args []string) error {
	fs := flag.NewFlagSet("ws forum", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server base URL (REST and every socket)")
	viewers := fs.Int("viewers", 1000, "sockets in the topic's room")
	nUsers := fs.Int("users", 0, "distinct viewing users, sockets spread over them (0: one per socket; hub.max_sockets_per_user caps sockets per user)")
	posters := fs.Int("posters", 8, "confirmed users the replies rotate over (forum.posts_per_minute limits each)")
	rate := fs.Int("rate", 2, "replies per second")
	duration := fs.Duration("duration", 30*time.Second, "how long to post measured replies")
	warmup := fs.Duration("warmup", 2*time.Second, "replies posted first and not measured")
	grace := fs.Duration("grace", 10*time.Second, "how long to wait for deliveries after the last reply")
	pid := fs.Int("pid", 0, "server process to sample (CPU)")
	_ = fs.Parse(args)
	if *nUsers <= 0 || *nUsers > *viewers {
		*nUsers = *viewers
	}

	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	start := time.Now()
	authors, err := chatUsers(httpc, *base, *posters)
	if err != nil {
		return fmt.Errorf("signing the posters up: %w", err)
	}
	topicID, err := createTopic(httpc, *base, authors[0].token)
	if err != nil {
		return err
	}
	tokens, err := signUpViewers(httpc, *base, *nUsers)
	if err != nil {
		return err
	}
	fmt.Printf("%d posters (confirmed) and %d viewing users signed up, topic %s, in %s\n",
		len(authors), len(tokens), topicID, time.Since(start).Round(time.Millisecond))

	// sentAt[n] is when reply n's POST was sent (unix ns; 0 before). Replies say "[fanout-<n>]".
	total := int(float64(*rate) * (warmup.Seconds() + duration.Seconds()))
	warm := int(float64(*rate) * warmup.Seconds())
	sentAt := make([]atomic.Int64, total)
	var (
		mu         sync.Mutex
		lat        []time.Duration
		perReply   = make([]int, total)           // measured deliveries per reply
		lastOf     = make([]time.Duration, total) // the slowest delivery of each reply
		firstOf    = make([]time.Duration, total) // the fastest
		received   atomic.Int64
		duplicates atomic.Int64
		unknown    atomic.Int64
	)
	room := "topic:" + topicID
	onEventFor := func(seen []bool) func(string, []any) {
		return func(name string, args []any) {
			now := time.Now().UnixNano()
			if name != "post:new" || len(args) == 0 {
				return
			}
			p, _ := args[0].(map[string]any)
			r, _ := p["reply"].(map[string]any)
			content, _ := r["content"].(string)
			n, ok := replyIndex(content)
			if !ok || n >= total || r["topicId"] != topicID {
				unknown.Add(1)
				return
			}
			t0 := sentAt[n].Load()
			if t0 == 0 {
				unknown.Add(1) // cannot happen: the send time is stored before the POST
				return
			}
			// seen is this socket's own, written only on its reading goroutine.
			if seen[n] {
				duplicates.Add(1)
				return
			}
			seen[n] = true
			if n < warm {
				return
			}
			d := time.Duration(now - t0)
			received.Add(1)
			mu.Lock()
			lat = append(lat, d)
			perReply[n]++
			lastOf[n] = max(lastOf[n], d)
			if firstOf[n] == 0 || d < firstOf[n] {
				firstOf[n] = d
			}
			mu.Unlock()
		}
	}

	clients := make([]*sioclient.Client, *viewers)
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 200)
	connStart := time.Now()
	for i := range *viewers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := dialOne(ctx, *base, tokens[i%len(tokens)], onEventFor(make([]bool, total)))
			if err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "connect:", err)
				}
				return
			}
			clients[i] = c
			res, err := c.EmitWithAck(ctx, "room:join", map[string]any{"room": room})
			if m, _ := first(res).(map[string]any); err != nil || m["ok"] != true {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "join:", err, first(res))
				}
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d viewers failed to connect or join %s", failed.Load(), *viewers, room)
	}
	fmt.Printf("%d viewers in %s (%d per user) in %s\n", *viewers, room, (*viewers+*nUsers-1) / *nUsers,
		time.Since(connStart).Round(time.Millisecond))

	var (
		posted, postFailed atomic.Int64
		postMu             sync.Mutex
		postLat            []time.Duration
		pw                 sync.WaitGroup
		n                  int
		cpu0, selfCPU0     float64
		measuredStart      time.Time
	)
	openLoop(*rate, *warmup+*duration, 1, func(time.Time) {
		i := n
		n++
		if i >= total {
			return
		}
		if i == warm {
			cpu0, selfCPU0, measuredStart = cpuSeconds(*pid), cpuSeconds(os.Getpid()), time.Now()
		}
		pw.Go(func() {
			who := authors[i%len(authors)]
			body, _ := json.Marshal(map[string]any{"content": fmt.Sprintf("[fanout-%d] %s", i, chatLines[i%len(chatLines)])})
			t0 := time.Now()
			sentAt[i].Store(t0.UnixNano())
			_, err := authed(httpc, http.MethodPost, *base+"/api/v1/forum/topics/"+topicID+"/replies", who.token, body)
			if i < warm {
				return
			}
			if err != nil {
				if postFailed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "reply:", err)
				}
				return
			}
			posted.Add(1)
			postMu.Lock()
			postLat = append(postLat, time.Since(t0))
			postMu.Unlock()
		})
	})
	pw.Wait()
	elapsed := time.Since(measuredStart)
	want := posted.Load() * int64(*viewers)
	for deadline := time.Now().Add(*grace); received.Load() < want && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	cpu, selfCPU := cpuSeconds(*pid)-cpu0, cpuSeconds(os.Getpid())-selfCPU0

	mu.Lock()
	defer mu.Unlock()
	var toAll, toFirst, spread []time.Duration
	var complete int
	for i := warm; i < total; i++ {
		if perReply[i] > 0 {
			toFirst = append(toFirst, firstOf[i])
		}
		if perReply[i] == *viewers {
			spread = append(spread, lastOf[i]-firstOf[i])
			complete++
			toAll = append(toAll, lastOf[i])
		}
	}
	fmt.Printf("replies: %d posted at %d/s over %s (%d failed, %d warm-up not counted)\n",
		posted.Load(), *rate, elapsed.Round(time.Millisecond), postFailed.Load(), warm)
	fmt.Printf("deliveries: %d of %d (%d missed after %s grace; %d duplicates, %d unrecognised); %d replies reached every viewer\n",
		received.Load(), want, want-received.Load(), *grace, duplicates.Load(), unknown.Load(), complete)
	printLatency("POST sent → 201", postLat)
	printLatency("POST sent → post:new at each viewer", lat)
	printLatency("POST sent → the first viewer has it", toFirst)
	printLatency("POST sent → the last viewer has it", toAll)
	printLatency("first viewer → last viewer (the fan-out itself)", spread)
	if *pid != 0 {
		fmt.Printf("server CPU: %.2f s over %s (%.0f%% of one core), %.1f ms per reply\n",
			cpu, elapsed.Round(time.Second), 100*cpu/elapsed.Seconds(), 1e3*cpu/float64(max(posted.Load(), 1)))
	}
	fmt.Printf("load generator CPU (same machine): %.2f s over %s (%.0f%% of one core)\n",
		selfCPU, elapsed.Round(time.Second), 100*selfCPU/elapsed.Seconds())
	if lines := metricLines(httpc, *base, "hub_disconnects_total"); len(lines) > 0 {
		fmt.Println("sockets disconnected during the run, by reason:", strings.Join(lines, ", "))
	}
	if received.Load() == 0 {
		return errors.New("no post:new reached any viewer")
	}
	return nil
}

// replyIndex reads n from a reply that starts "[fanout-<n>]".
func replyIndex(content string) (int, bool) {
	rest, ok := strings.CutPrefix(content, "[fanout-")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil && n >= 0
}

func first(v []any) any {
	if len(v) == 0 {
		return nil
	}
	return v[0]
}

// createTopic posts the topic the viewers will watch.
func createTopic(c *http.Client, base, token string) (string, error) {
	body, _ := json.Marshal(map[string]any{"title": "Which vibration sensors for line 3?", "kind": "question",
		"category": "maintenance", "tags": []string{"sensors"},
		"content": "We are choosing vibration sensors for the pumps on line 3. What has worked for you?"})
	res, err := authed(c, http.MethodPost, base+"/api/v1/forum/topics", token, body)
	if err != nil {
		return "", err
	}
	var t struct{ ID string }
	if err := json.Unmarshal(res.body, &t); err != nil || t.ID == "" {
		return "", fmt.Errorf("creating the topic: %s", res.body)
	}
	return t.ID, nil
}

// signUpViewers signs n users up (no confirmation: reading and following a topic need none).
func signUpViewers(c *http.Client, base string, n int) ([]string, error) {
	run := time.Now().UnixNano()
	tokens := make([]string, n)
	var (
		errMu    sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			tok, err := signUp(c, base, fmt.Sprintf("viewer.%d.%d@example.com", run, i))
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				return
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("signing the viewers up: %w", firstErr)
	}
	return tokens, nil
}
