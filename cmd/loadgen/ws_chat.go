package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2psandbox/hub/realtime/sioclient"
)

// wsChat is private messaging at a fixed rate through the socket path: pairs of users with a
// direct conversation each, every user on one websocket; messages go out with message:send and
// are timed from the moment they were due until the other user's socket has message:new (stored
// in PostgreSQL and delivered through the hub on the way). It needs a development server: users
// confirm their address through the /dev/outbox mail listing, as messaging requires.
func wsChat(args []string) error {
	fs := flag.NewFlagSet("ws chat", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "server base URL")
	pairs := fs.Int("pairs", 100, "pairs of users, one direct conversation each")
	rate := fs.Int("rate", 2000, "messages per second, spread over the pairs")
	duration := fs.Duration("duration", 30*time.Second, "how long to send")
	warmup := fs.Duration("warmup", 3*time.Second, "load sent first and not measured")
	inflight := fs.Int("inflight", 1024, "messages awaiting their ack at most")
	pid := fs.Int("pid", 0, "server process to sample (CPU)")
	timeline := fs.Bool("timeline", false, "also print delivery latency for each second of the run")
	_ = fs.Parse(args)

	http1 := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	users, err := chatUsers(http1, *base, 2**pairs)
	if err != nil {
		return err
	}
	convs := make([]string, *pairs)
	for i := range convs {
		if convs[i], err = startConversation(http1, *base, users[2*i], users[2*i+1]); err != nil {
			return err
		}
	}
	fmt.Printf("%d users signed up and confirmed, %d conversations\n", len(users), len(convs))

	var (
		measuredFrom atomic.Int64 // due time (ns) of the first measured message; 0 before
		mu           sync.Mutex
		lat          []time.Duration
		dues         []int64 // due time (ns) of each entry of lat
		received     atomic.Int64
	)
	ctx := context.Background()
	clients := make([]*sioclient.Client, len(users))
	for i, u := range users {
		me := u.id
		onEvent := func(name string, args []any) {
			if name != "message:new" || len(args) == 0 {
				return
			}
			m, _ := args[0].(map[string]any)["message"].(map[string]any)
			if m == nil || m["senderId"] == me {
				return
			}
			// clientId is load-<due>-<n>.
			parts := strings.Split(fmt.Sprint(m["clientId"]), "-")
			if len(parts) != 3 {
				return
			}
			due, err := strconv.ParseInt(parts[1], 10, 64)
			// A warm-up message delivered after its ack is not one of the measured.
			if from := measuredFrom.Load(); err != nil || from == 0 || due < from {
				return
			}
			d := time.Since(time.Unix(0, due))
			received.Add(1)
			mu.Lock()
			lat = append(lat, d)
			dues = append(dues, due)
			mu.Unlock()
		}
		if clients[i], err = dialOne(ctx, *base, u.token, onEvent); err != nil {
			return fmt.Errorf("connecting user %d: %w", i, err)
		}
		defer clients[i].Close()
	}

	var sent, acked, failed atomic.Int64
	var ackLat []time.Duration
	sem := make(chan struct{}, *inflight)
	var wg sync.WaitGroup
	send := func(i int, due time.Time, measured bool) {
		pair := i % *pairs
		from := 2*pair + (i / *pairs)%2
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			ack, err := clients[from].EmitWithAck(actx, "message:send", map[string]any{
				"conversationId": convs[pair], "clientId": fmt.Sprintf("load-%d-%d", due.UnixNano(), i),
				"content": chatLines[i%len(chatLines)],
			})
			ok := err == nil && len(ack) > 0 && ack[0].(map[string]any)["ok"] == true
			if !measured {
				return
			}
			sent.Add(1)
			if !ok {
				if failed.Add(1) <= 3 {
					fmt.Fprintln(os.Stderr, "send:", err, ack)
				}
				return
			}
			acked.Add(1)
			mu.Lock()
			ackLat = append(ackLat, time.Since(due))
			mu.Unlock()
		}()
	}
	// One open loop: the warm-up is its first stretch, not counted, with no pause before the
	// measured part (a pause would measure the ramp up again).
	var (
		cpu0    float64
		n       int
		started time.Time
	)
	warm := int(float64(*rate) * warmup.Seconds())
	openLoop(*rate, *warmup+*duration, 1, func(due time.Time) {
		if n == warm {
			cpu0, started = cpuSeconds(*pid), time.Now()
			measuredFrom.Store(due.UnixNano())
		}
		send(n, due, n >= warm)
		n++
	})
	wg.Wait()
	elapsed := time.Since(started)
	// Deliveries trail the acks by a little; wait for them, not for ever.
	deadline := time.Now().Add(10 * time.Second)
	for received.Load() < acked.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cpu := cpuSeconds(*pid) - cpu0
	mu.Lock()
	defer mu.Unlock()
	fmt.Printf("sent %d messages in %s (%.0f/s), %d acked, %d failed, %d delivered to the other user\n",
		sent.Load(), elapsed.Round(time.Millisecond), float64(sent.Load())/elapsed.Seconds(), acked.Load(), failed.Load(), received.Load())
	printLatency("send → ack (stored)", ackLat)
	printLatency("send → message:new at the recipient", lat)
	if *timeline {
		printTimeline(measuredFrom.Load(), dues, lat)
	}
	if *pid != 0 {
		fmt.Printf("server CPU: %.1f s over %s (%.0f%% of one core), %.0f µs per message\n",
			cpu, elapsed.Round(time.Second), 100*cpu/elapsed.Seconds(), 1e6*cpu/float64(max(sent.Load(), 1)))
	}
	// Read before the clients close: any disconnect counted now happened during the run.
	if lines := metricLines(http1, *base, "hub_disconnects_total"); len(lines) > 0 {
		fmt.Println("sockets disconnected during the run, by reason:", strings.Join(lines, ", "))
	}
	return nil
}

// metricLines are the samples of one metric on the server's /metrics; none when it cannot be read.
func metricLines(c *http.Client, base, name string) []string {
	res, err := c.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, name+"{") {
			out = append(out, strings.TrimPrefix(l, name))
		}
	}
	return out
}

// printTimeline prints the latency of the operations due in each second of the run, to
// tell steady queueing from stalls.
func printTimeline(from int64, dues []int64, lat []time.Duration) {
	var secs [][]time.Duration
	for i, due := range dues {
		sec := int((due - from) / int64(time.Second))
		for len(secs) <= sec {
			secs = append(secs, nil)
		}
		secs[sec] = append(secs[sec], lat[i])
	}
	for sec, l := range secs {
		slices.Sort(l)
		// The wall clock lets a second be matched with the server's and the database's logs.
		at := time.Unix(0, from).Add(time.Duration(sec) * time.Second).UTC().Format("15:04:05")
		fmt.Printf("  second %3d (%s): %5d delivered, p50 %s  p99 %s  max %s\n", sec, at, len(l), pct(l, .5), pct(l, .99), pct(l, 1))
	}
}

// chatLines are what the load's messages say: words, as people write them, in both languages
// (the search index sees what it would see in production, not a unique number per message).
var chatLines = []string{
	"Morning! Did the new vibration sensors on line 3 arrive?",
	"صباح الخير، هل وصلت حساسات الاهتزاز الجديدة للخط الثالث؟",
	"Yes, installed yesterday. Downtime dropped by 12% this week.",
	"نعم، تم التركيب أمس وانخفض التوقف بنسبة ١٢٪ هذا الأسبوع",
	"Can you share the ROI sheet before Thursday's review?",
	"هل يمكنك مشاركة جدول العائد على الاستثمار قبل مراجعة الخميس؟",
	"Sure, I'll upload it to the use case page tonight.",
	"The predictive maintenance model flagged pump 7 again.",
	"نموذج الصيانة التنبؤية نبه على المضخة ٧ مرة أخرى",
	"We replaced the bearing; readings are back to normal.",
	"Thanks, that saves us a week of trial and error.",
	"شكرا جزيلا، هذا يوفر علينا أسبوعا من التجربة",
	"Who supplied the PLC retrofit kit you mentioned?",
	"A local integrator in Dammam, I'll send you their contact.",
	"Energy use is down 8% since we moved the compressors to night shifts.",
	"انخفض استهلاك الطاقة ٨٪ منذ نقل الضواغط إلى الوردية الليلية",
}

type chatUser struct{ id, email, token string }

// chatUsers signs n users up and confirms their addresses through the development outbox.
func chatUsers(c *http.Client, base string, n int) ([]chatUser, error) {
	run := time.Now().UnixNano()
	users := make([]chatUser, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("chat.%d.%d@example.com", run, i)
			tok, err := signUp(c, base, email)
			if err != nil {
				errs <- err
				return
			}
			id, tok, err := confirm(c, base, email, tok)
			if err != nil {
				errs <- err
				return
			}
			users[i] = chatUser{id: id, email: email, token: tok}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return users, nil
}

// confirm opens the user's verification link from /dev/outbox and returns the user's id and the
// access token that now carries the confirmed address.
func confirm(c *http.Client, base, email, token string) (string, string, error) {
	var link string
	for deadline := time.Now().Add(30 * time.Second); link == "" && time.Now().Before(deadline); {
		res, err := c.Get(base + "/dev/outbox?to=" + url.QueryEscape(email))
		if err != nil {
			return "", "", err
		}
		var box struct {
			Items []struct{ Links []string } `json:"items"`
		}
		err = json.NewDecoder(res.Body).Decode(&box)
		res.Body.Close()
		if err != nil {
			return "", "", fmt.Errorf("reading /dev/outbox (is the server in development?): %w", err)
		}
		if len(box.Items) > 0 && len(box.Items[0].Links) > 0 {
			link = box.Items[0].Links[0]
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if link == "" {
		return "", "", fmt.Errorf("no verification mail for %s", email)
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", "", err
	}
	body, _ := json.Marshal(map[string]string{"method": "token", "token": u.Query().Get("token")})
	res, err := authed(c, http.MethodPost, base+"/auth/user/email/verify", token, body)
	if err != nil {
		return "", "", err
	}
	if t := res.Header.Get("st-access-token"); t != "" {
		token = t
	}
	me, err := authed(c, http.MethodGet, base+"/api/v1/me", token, nil)
	if err != nil {
		return "", "", err
	}
	var acc struct {
		User struct{ ID string } `json:"user"`
	}
	if err := json.Unmarshal(me.body, &acc); err != nil || acc.User.ID == "" {
		return "", "", fmt.Errorf("reading /api/v1/me: %s", me.body)
	}
	return acc.User.ID, token, nil
}

func startConversation(c *http.Client, base string, a, b chatUser) (string, error) {
	body, _ := json.Marshal(map[string]any{"participantIds": []string{b.id}})
	res, err := authed(c, http.MethodPost, base+"/api/v1/conversations", a.token, body)
	if err != nil {
		return "", err
	}
	var conv struct{ ID string }
	if err := json.Unmarshal(res.body, &conv); err != nil || conv.ID == "" {
		return "", fmt.Errorf("starting a conversation: %s", res.body)
	}
	return conv.ID, nil
}

type response struct {
	http.Header
	body []byte
}

func authed(c *http.Client, method, u, token string, body []byte) (response, error) {
	req, err := authRequest(context.Background(), method, u, token, body)
	if err != nil {
		return response{}, err
	}
	res, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return response{}, errors.New(method + " " + u + ": " + res.Status + " " + string(b))
	}
	return response{Header: res.Header, body: b}, nil
}

// authRequest is a request as the user whose access token this is (JSON when body is set).
func authRequest(ctx context.Context, method, u, token string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("st-auth-mode", "header")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}
