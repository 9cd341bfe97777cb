package messagingdb_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// TestRecordedMessageSentIsTheEvent: the MessageSent the send statement records in the event log
// (built in SQL from what Go encoded) is the event the service publishes (messaging.SentEvent):
// subscribers and listeners see the same message, seq, audience and muted recipients.
func TestRecordedMessageSentIsTheEvent(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := messagingdb.New(pool)
	u := identitytest.Users(t, pool, 4)
	group := conversation(t, s, messaging.KindGroup, u[0], u[1], u[2], u[3])
	muted := true
	require.NoError(t, s.UpdateParticipant(ctx, group, u[3], messaging.ParticipantUpdate{Muted: &muted}))
	direct := conversation(t, s, messaging.KindDirect, u[0], u[1])

	for _, in := range []messaging.SendInput{
		input(group, u[0], "c-1", "Line 4 is back up"),
		input(group, u[2], "", "Great — تم"),
		input(direct, u[1], "", "Thanks"),
	} {
		res, err := s.Send(ctx, in)
		require.NoError(t, err)
		var payload []byte
		require.NoError(t, pool.QueryRow(ctx, `SELECT payload FROM domain_events WHERE name = $1 AND payload->'message'->>'id' = $2`,
			messaging.MessageSentName, in.ID).Scan(&payload))
		var recorded messaging.MessageSent
		require.NoError(t, json.Unmarshal(payload, &recorded))
		want := messaging.SentEvent(res)
		// Times go through JSON: compare them as instants.
		assert.True(t, want.Message.CreatedAt.Equal(recorded.Message.CreatedAt))
		recorded.Message.CreatedAt = want.Message.CreatedAt
		assert.Equal(t, want, recorded, string(payload))
	}
}
