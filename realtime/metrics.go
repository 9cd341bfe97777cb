package realtime

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/realtime/sio"
	"github.com/p2psandbox/hub/realtime/typing"
)

// metrics are the hub's collectors. Event labels are limited to the names the hub knows, so a
// client cannot grow the label set.
type metrics struct {
	received      *prometheus.CounterVec
	sentTotal     *prometheus.CounterVec
	emitDuration  *prometheus.HistogramVec
	adapterErrors prometheus.Counter
	refused       *prometheus.CounterVec
	handshakes    *prometheus.HistogramVec
	disconnects   *prometheus.CounterVec
	ended         *prometheus.CounterVec
	names         map[string]bool
}

// disconnectReasons are the reasons Socket.IO gives for a disconnect; anything else counts as
// other, so the label set stays fixed.
var disconnectReasons = map[string]bool{
	"transport close": true, "transport error": true, "ping timeout": true, "parse error": true,
	"forced close": true, "server shutting down": true, "client namespace disconnect": true,
	"server namespace disconnect": true, "forced server close": true,
}

func newMetrics(r prometheus.Registerer, srv *sio.Server, tr *typing.Tracker, names []string) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_events_received_total",
			Help: "Client events received by the hub, by event name (other: names the hub does not know).",
		}, []string{"event"}),
		sentTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_events_sent_total",
			Help: "Events the hub sent, by event name: one per emit or room broadcast, not per recipient.",
		}, []string{"event"}),
		emitDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hub_emit_duration_seconds",
			Help:    "Time to hand an event to the transport (local delivery plus the Redis publish), by kind.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		}, []string{"kind"}),
		adapterErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hub_adapter_errors_total",
			Help: "Errors of the Redis adapter (publish and subscribe).",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_handshakes_refused_total",
			Help: "Namespace handshakes refused, by connect_error code.",
		}, []string{"code"}),
		handshakes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hub_handshake_duration_seconds",
			Help:    "Time to authenticate a namespace handshake (token check, socket limit), by outcome: ok or refused.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"outcome"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_disconnects_total",
			Help: "Sockets that left this node, by Socket.IO's reason (other: a reason it does not list).",
		}, []string{"reason"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_sockets_ended_total",
			Help: "Sockets the hub disconnected because their access ended, by code (session_revoked, token_expired).",
		}, []string{"code"}),
		names: map[string]bool{},
	}
	for _, n := range names {
		m.names[n] = true
	}
	cs := []prometheus.Collector{
		m.received, m.sentTotal, m.emitDuration, m.adapterErrors, m.refused, m.handshakes, m.disconnects, m.ended,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hub_connected_sockets",
			Help: "Sockets connected to this node.",
		}, func() float64 { return float64(srv.Count()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hub_rooms",
			Help: "Rooms with at least one socket on this node (each socket's own room not counted).",
		}, func() float64 { return float64(srv.RoomCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hub_typing_indicators",
			Help: "Typing indicators held by this node.",
		}, func() float64 { return float64(tr.Len()) }),
	}
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// RegisterMetrics registers the hub's collectors on r without a hub, so that a test can list the
// metric names the hub exports (deploy/'s alert rules and dashboard may use no other). Their
// gauges read nothing until collected, and a registry built this way must not be gathered.
func RegisterMetrics(r prometheus.Registerer) error {
	_, err := newMetrics(r, nil, nil, nil)
	return err
}

// handshook records one handshake's authentication.
func (m *metrics) handshook(d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused"
	}
	m.handshakes.WithLabelValues(outcome).Observe(d.Seconds())
}

func (m *metrics) disconnected(reason string) {
	if !disconnectReasons[reason] {
		reason = "other"
	}
	m.disconnects.WithLabelValues(reason).Inc()
}

func (m *metrics) label(event string) string {
	if m.names[event] {
		return event
	}
	return "other"
}

func (m *metrics) got(event string) { m.received.WithLabelValues(m.label(event)).Inc() }

// sent records one emit. Outgoing names are chosen by our code, not by clients, so they are kept.
func (m *metrics) sent(event, kind string, d time.Duration) {
	m.sentTotal.WithLabelValues(event).Inc()
	m.emitDuration.WithLabelValues(kind).Observe(d.Seconds())
}
