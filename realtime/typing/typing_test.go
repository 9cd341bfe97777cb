package typing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/realtime/typing"
)

func TestTracker(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := typing.New(6*time.Second, 2*time.Second, func() time.Time { return now })
	a := typing.Item{Conn: "c1", Room: "topic:1", UserID: "u1"}
	b := typing.Item{Conn: "c2", Room: "topic:1", UserID: "u2"}

	steps := []struct {
		name    string
		advance time.Duration
		do      func() any
		want    any
	}{
		{"first start relays", 0, func() any { return tr.Start(a) }, true},
		{"refresh inside the throttle is absorbed", time.Second, func() any { return tr.Start(a) }, false},
		{"refresh after the throttle relays", 1500 * time.Millisecond, func() any { return tr.Start(a) }, true},
		{"another user relays", 0, func() any { return tr.Start(b) }, true},
		{"nothing expired yet", 5 * time.Second, func() any { return tr.Expire() }, []typing.Item(nil)},
		{"a refreshes", 0, func() any { return tr.Start(a) }, true},
		{"b expires 6 s after its start", time.Second, func() any { return tr.Expire() }, []typing.Item{b}},
		{"a lives until 6 s after its refresh", 4900 * time.Millisecond, func() any { return tr.Expire() }, []typing.Item(nil)},
		{"and then expires", 100 * time.Millisecond, func() any { return tr.Expire() }, []typing.Item{a}},
		{"stop of an expired indicator relays nothing", 0, func() any { return tr.Stop(a) }, false},
		{"start again relays", 0, func() any { return tr.Start(a) }, true},
		{"stop relays", 0, func() any { return tr.Stop(a) }, true},
		{"restart then drop the connection", 0, func() any { tr.Start(a); return tr.DropConn("c1") }, []typing.Item{a}},
		{"leaving a room drops its indicator", 0, func() any { tr.Start(b); return tr.DropRoom("c2", "topic:1") }, []typing.Item{b}},
		{"nothing left", 0, func() any { return tr.Len() }, 0},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		assert.Equal(t, st.want, st.do(), st.name)
	}
}
