package notifyapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/app/notifyapp"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/mail"
	"github.com/p2psandbox/hub/platform/mail/mailtest"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/realtime/sioclient"
	"github.com/p2psandbox/hub/workers"
	"github.com/p2psandbox/hub/workers/workertest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// digestRun is one run of the digest task, seen after its handler returned.
type digestRun struct {
	RecipientID string `json:"recipientId"`
	Window      string `json:"window"`
}

// digestRuns collects the runs so that a test can wait for those of its recipient.
type digestRuns struct {
	mu      sync.Mutex
	got     map[string][]digestRun
	changed chan struct{}
}

func (d *digestRuns) add(r digestRun) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got[r.RecipientID] = append(d.got[r.RecipientID], r)
	close(d.changed)
	d.changed = make(chan struct{})
}

// wait returns the recipient's runs once there are n.
func (d *digestRuns) wait(t *testing.T, recipient string, n int) []digestRun {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		d.mu.Lock()
		runs, ch := append([]digestRun(nil), d.got[recipient]...), d.changed
		d.mu.Unlock()
		if len(runs) >= n {
			return runs
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("digest run %d of %s never came", n, recipient)
		}
	}
}

// tokens authenticates hub handshakes whose token is a user id.
type tokens struct{}

func (tokens) PrincipalFromToken(_ context.Context, token string) (identity.Principal, error) {
	return identity.Principal{UserID: token, OrganizationID: "o"}, nil
}

// digestEnv is the whole digest path: PostgreSQL, the real asynq worker with the digest and mail
// handlers, an SMTP sink, and a hub node whose presence decides who is online.
type digestEnv struct {
	pool     *pgxpool.Pool
	svc      *notify.Service
	accounts *identity.Service
	mail     *mailtest.Server
	runs     *digestRuns
	queue    string
	client   *asynq.Client
	inspect  *asynq.Inspector
	hubURL   string
}

const testDelay = time.Second

func newDigestEnv(t *testing.T) *digestEnv {
	t.Helper()
	pool, _ := pgtest.New(t)
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"queue")
	e := &digestEnv{pool: pool, mail: mailtest.Start(t), queue: queue,
		runs:    &digestRuns{got: map[string][]digestRun{}, changed: make(chan struct{})},
		client:  asynq.NewClientFromRedisClient(rdb),
		inspect: asynq.NewInspectorFromRedisClient(rdb)}
	e.accounts = identity.NewService(identity.Deps{Store: identitydb.New(pool)})

	// Registered before the worker, so the hub stops after it.
	hub, url := serveHub(t, rdb, prefix)
	e.hubURL = url

	// The service's events reach the hub through the area's bridge, as in serve.
	bus := newBus(t, pool)
	notifyapp.Bridge(bus, hub)
	e.svc = notify.NewService(notify.Deps{
		Store:     notifydb.New(pool),
		Events:    bus,
		Scheduler: notifyapp.DigestQueue{Client: e.client, Queue: queue},
		Presence:  realtime.NewOnline(rdb, prefix),
		Accounts:  e.accounts,
		Mailer:    workers.MailQueue{Client: e.client, Queue: queue},
		Config:    notify.Config{EmailDelay: testDelay, WebsiteURL: "http://app.example"},
		Log:       logging.Discard(),
	})

	renderer, err := mail.NewRenderer("P2P Sandbox Hub")
	require.NoError(t, err)
	w, err := workers.New(rdb, workers.Config{Concurrency: 4, Queue: queue, CleanupInterval: time.Hour,
		ShutdownTimeout: 5 * time.Second}, logging.Discard())
	require.NoError(t, err)
	w.Handle(workers.TypeSendMail, workers.SendMail{Renderer: renderer,
		Sender: mail.NewSMTP(mail.SMTPConfig{Host: e.mail.Host, Port: e.mail.Port, From: "hub@p2p.local"})})
	digest := notifyapp.NotifyDigest{Digests: e.svc}
	w.Handle(notifyapp.TypeNotifyDigest, asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		err := digest.ProcessTask(ctx, task)
		var r digestRun
		_ = json.Unmarshal(task.Payload(), &r)
		if err != nil {
			t.Errorf("digest of %s: %v", r.RecipientID, err)
		}
		e.runs.add(r)
		return err
	}))
	workertest.Serve(t, w)
	return e
}

// serveHub starts a hub node on rdb and returns it with its URL. It stops when the test ends
// (after what registered cleanups later, such as a worker).
func serveHub(t *testing.T, rdb goredis.UniversalClient, prefix string) (*realtime.Hub, string) {
	t.Helper()
	hub, err := realtime.New(context.Background(), realtime.Config{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second,
		MaxPayload: 1 << 20, ConnectTimeout: 3 * time.Second, EventRate: 100, EventBurst: 100,
		TypingTTL: time.Second, PresenceTTL: time.Minute}, realtime.Deps{Redis: rdb, KeyPrefix: prefix, Auth: tokens{}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", hub.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
	})
	return hub, srv.URL
}

// newBus returns an event bus for listeners (its dispatcher never runs: nothing here is durable).
func newBus(t *testing.T, pool *pgxpool.Pool) *events.Bus {
	t.Helper()
	dispatcher, err := outbox.New(pool, outbox.Options{Log: logging.Discard()})
	require.NoError(t, err)
	return events.New(dispatcher, logging.Discard())
}

type person struct{ id, email string }

func (e *digestEnv) user(t *testing.T, first, lang string) person {
	t.Helper()
	id := identitytest.NewOrg(t, e.pool, identitytest.Named(first, "Tester"), identitytest.Language(lang)).Owner.UserID
	return person{id: id, email: identitytest.Email(id)}
}

func (e *digestEnv) notify(t *testing.T, ev notify.Event) {
	t.Helper()
	if ev.TargetType == "" {
		ev.TargetType, ev.TargetID = "post", uuid.NewString()
	}
	require.NoError(t, e.svc.Notify(context.Background(), ev))
}

func message(to, from person, conv, text string) notify.Event {
	return notify.Event{Type: notify.TypeMessage, RecipientID: to.id, ActorID: from.id, TargetType: "conversation",
		TargetID: conv, GroupKey: "conversation:" + conv, Data: map[string]any{"preview": text}}
}

// mailQueued tells whether the digest of run queued its mail: TemplateOnce keeps the task (id
// and all) for a day after it is sent, so "not found" means it was never queued.
func (e *digestEnv) mailQueued(t *testing.T, run digestRun) bool {
	t.Helper()
	_, err := e.inspect.GetTaskInfo(e.queue, "mail:notify:"+run.RecipientID+":"+run.Window)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

// TestNotificationDigest runs the digest rule against real asynq, PostgreSQL, SMTP and hub
// presence, with a one-second delay.
func TestNotificationDigest(t *testing.T) {
	e := newDigestEnv(t)
	ctx := context.Background()
	sara := e.user(t, "Sara", "en")

	t.Run("offline: one batched mail after the delay, never twice", func(t *testing.T) {
		t.Parallel()
		omar := e.user(t, "Omar", "en")
		start := time.Now()
		for _, text := range []string{"one", "two", "three"} {
			e.notify(t, message(omar, sara, "c1", text))
		}
		e.notify(t, message(omar, sara, "c2", "elsewhere"))
		e.notify(t, notify.Event{Type: notify.TypeMention, RecipientID: omar.id, ActorID: sara.id,
			Data: map[string]any{"title": "Line 4 downtime"}})
		// Off by default: stored and listed, never mailed.
		e.notify(t, notify.Event{Type: notify.TypeInvitationAccepted, RecipientID: omar.id, ActorID: sara.id})

		m := e.mail.Wait(t, omar.email, "You have 3 unread notifications", 30*time.Second)
		assert.GreaterOrEqual(t, time.Since(start), testDelay, "not before the delay")
		assert.Contains(t, m.Text, "Hello Omar,")
		assert.Contains(t, m.Text, "Sara Tester sent you 3 messages: “three”")
		assert.Contains(t, m.Text, "Sara Tester sent you a message: “elsewhere”")
		assert.Contains(t, m.Text, "Sara Tester mentioned you in “Line 4 downtime”")
		assert.NotContains(t, m.Text, "accepted your invitation")
		assert.Equal(t, []string{"http://app.example/notifications"}, m.Links)

		runs := e.runs.wait(t, omar.id, 1)
		var unmailed int
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM notifications
			WHERE recipient_id = $1 AND email AND emailed_at IS NULL`, omar.id).Scan(&unmailed))
		assert.Zero(t, unmailed, "everything mailed is marked")

		// A later window finds nothing left to mail.
		require.NoError(t, notifyapp.DigestQueue{Client: e.client, Queue: e.queue}.ScheduleDigest(ctx, omar.id, "later", time.Now()))
		later := e.runs.wait(t, omar.id, len(runs)+1)
		assert.False(t, e.mailQueued(t, later[len(later)-1]))
		assert.Equal(t, 1, e.mail.Count(omar.email))
	})

	t.Run("read in time: no mail", func(t *testing.T) {
		t.Parallel()
		huda := e.user(t, "Huda", "en")
		e.notify(t, message(huda, sara, "c3", "hello"))
		require.NoError(t, e.svc.MarkTargetRead(ctx, huda.id, "conversation", "c3"))
		run := e.runs.wait(t, huda.id, 1)[0]
		assert.False(t, e.mailQueued(t, run))
		assert.Zero(t, e.mail.Count(huda.email))
	})

	t.Run("email off in the preferences: not mailed", func(t *testing.T) {
		t.Parallel()
		ali := e.user(t, "Ali", "en")
		no, yes := false, true
		_, err := e.svc.SetPreferences(ctx, ali.id, map[string]notify.PreferenceUpdate{notify.TypeMessage: {InApp: &yes, Email: &no}})
		require.NoError(t, err)
		e.notify(t, message(ali, sara, "c4", "quiet please"))
		e.notify(t, notify.Event{Type: notify.TypeReply, RecipientID: ali.id, ActorID: sara.id, Data: map[string]any{"title": "Kaizen"}})
		m := e.mail.Wait(t, ali.email, "You have an unread notification", 30*time.Second)
		assert.Contains(t, m.Text, "Sara Tester replied to “Kaizen”")
		assert.NotContains(t, m.Text, "quiet please")
	})

	t.Run("email turned off after the event: not mailed", func(t *testing.T) {
		t.Parallel()
		noor := e.user(t, "Noor", "en")
		e.notify(t, message(noor, sara, "c5", "soon off"))
		no, yes := false, true
		_, err := e.svc.SetPreferences(ctx, noor.id, map[string]notify.PreferenceUpdate{notify.TypeMessage: {InApp: &yes, Email: &no}})
		require.NoError(t, err)
		run := e.runs.wait(t, noor.id, 1)[0]
		assert.False(t, e.mailQueued(t, run))
		var wanted bool
		require.NoError(t, e.pool.QueryRow(ctx, `SELECT email FROM notifications WHERE recipient_id = $1`, noor.id).Scan(&wanted))
		assert.False(t, wanted, "the digest settled it: never mailed later either")
	})

	t.Run("online: no mail; the next window mails what is still unread", func(t *testing.T) {
		t.Parallel()
		layla := e.user(t, "Layla", "ar")
		watcher, err := sioclient.Dial(ctx, e.hubURL, sioclient.Options{Auth: map[string]any{"token": "watcher-" + layla.id}})
		require.NoError(t, err)
		defer watcher.Close()
		_, err = watcher.EmitWithAck(ctx, realtime.EventPresenceSubscribe, map[string]any{"userIds": []any{layla.id}})
		require.NoError(t, err)
		tab, err := sioclient.Dial(ctx, e.hubURL, sioclient.Options{Auth: map[string]any{"token": layla.id}})
		require.NoError(t, err)
		_, err = watcher.Next(ctx, realtime.EventPresenceUpdate) // online
		require.NoError(t, err)

		e.notify(t, message(layla, sara, "c6", "are you there?"))
		live, err := tab.Next(ctx, notifyapp.EventNotificationNew)
		require.NoError(t, err, "the online user got it live")
		assert.Equal(t, "are you there?", live.Args[0].(map[string]any)["data"].(map[string]any)["preview"])
		run := e.runs.wait(t, layla.id, 1)[0]
		assert.False(t, e.mailQueued(t, run), "online at digest time: nothing mailed")

		require.NoError(t, tab.Close())
		_, err = watcher.Next(ctx, realtime.EventPresenceUpdate) // offline
		require.NoError(t, err)
		e.notify(t, notify.Event{Type: notify.TypeBestAnswer, RecipientID: layla.id, ActorID: sara.id, Data: map[string]any{"title": "PLC"}})
		m := e.mail.Wait(t, layla.email, "لديك إشعارات غير مقروءة (2)", 30*time.Second)
		assert.Contains(t, m.Text, "مرحباً Layla")
		assert.Contains(t, m.Text, "أرسل إليك Sara Tester رسالة: «are you there?»", "the older one, left unread, comes along")
		assert.Contains(t, m.Text, "اختار Sara Tester إجابتك أفضلَ إجابة في «PLC»")
	})
}

// TestTemplateOnce: a mail queued twice under one id is sent once, even after the first was
// sent (a digest retried after its mail was queued).
func TestTemplateOnce(t *testing.T) {
	sink := mailtest.Start(t)
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"queue")
	renderer, err := mail.NewRenderer("P2P Sandbox Hub")
	require.NoError(t, err)
	w, err := workers.New(rdb, workers.Config{Concurrency: 1, Queue: queue, CleanupInterval: time.Hour,
		ShutdownTimeout: 5 * time.Second}, logging.Discard())
	require.NoError(t, err)
	w.Handle(workers.TypeSendMail, workers.SendMail{Renderer: renderer,
		Sender: mail.NewSMTP(mail.SMTPConfig{Host: sink.Host, Port: sink.Port, From: "hub@p2p.local"})})
	workertest.Serve(t, w)
	ctx := context.Background()

	q := workers.MailQueue{Client: asynq.NewClientFromRedisClient(rdb), Queue: queue}
	send := func(id, first, count string) {
		require.NoError(t, q.TemplateOnce(ctx, id, "notification_digest", "en", "a@x.example",
			map[string]string{"FirstName": first, "Count": count, "More": "0", "Link": "http://app.example/notifications"},
			[]map[string]string{{"Type": "reply", "Count": "1"}}))
	}
	send("d1", "First", "1")
	sink.Wait(t, "a@x.example", "an unread notification", 30*time.Second)
	send("d1", "Again", "1") // already sent: refused
	// One worker takes the queue in order: had the repeat been queued, it would arrive first.
	send("d2", "Sentinel", "2")
	sink.Wait(t, "a@x.example", "2 unread notifications", 30*time.Second)
	var firsts []string
	for _, m := range sink.Messages() {
		firsts = append(firsts, strings.SplitN(strings.TrimPrefix(m.Text, "Hello "), ",", 2)[0])
	}
	assert.Equal(t, []string{"First", "Sentinel"}, firsts)
}
