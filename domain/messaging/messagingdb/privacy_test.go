package messagingdb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// someone makes a user founding their own organization, with the given privacy settings, and
// returns them as a principal with a confirmed address.
func someone(t *testing.T, pool *pgxpool.Pool, visibility, allow string) identity.Principal {
	t.Helper()
	return identitytest.NewOrg(t, pool, identitytest.Privacy(visibility, allow)).Owner
}

// sameAnswer asserts that err answers exactly like want, once the id each names is set aside.
func sameAnswer(t *testing.T, want, err error, wantID, id string) {
	t.Helper()
	we, ok := errs.As(want)
	require.True(t, ok, "%v", want)
	e, ok := errs.As(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, we.Code, e.Code)
	assert.Equal(t, strings.ReplaceAll(we.Error(), wantID, "ID"), strings.ReplaceAll(e.Error(), id, "ID"))
	require.Len(t, e.Fields, len(we.Fields))
	for i := range we.Fields {
		assert.Equal(t, we.Fields[i].Field, e.Fields[i].Field)
		assert.Equal(t, strings.ReplaceAll(we.Fields[i].Message, wantID, "ID"), strings.ReplaceAll(e.Fields[i].Message, id, "ID"))
	}
}

func TestConversationsReachOnlyWhoMayBeReached(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := service(pool)
	me := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	open := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	open2 := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	private := someone(t, pool, identity.VisibilityPrivate, identity.MessagesFromAnyone)
	colleaguesOnly := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromOrganization)
	nobody := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromNobody)
	unknown := uuid.NewString()

	direct := func(to string) error {
		_, _, err := svc.Create(ctx, me, messaging.NewInput{ParticipantIDs: []string{to}})
		return err
	}
	group := func(to ...string) error {
		_, _, err := svc.Create(ctx, me, messaging.NewInput{ParticipantIDs: to, Title: "Line 7"})
		return err
	}
	wantDirect, wantGroup := direct(unknown), group(open.UserID, unknown)
	require.Equal(t, errs.Validation, errs.CodeOf(wantDirect), "%v", wantDirect)

	for _, who := range []identity.Principal{private, colleaguesOnly, nobody} {
		sameAnswer(t, wantDirect, direct(who.UserID), unknown, who.UserID)
		sameAnswer(t, wantGroup, group(open.UserID, who.UserID), unknown, who.UserID)
	}

	// A group's admin adds only whom they may reach.
	g, created, err := svc.Create(ctx, me, messaging.NewInput{ParticipantIDs: []string{open.UserID}, Title: "Line 7"})
	require.NoError(t, err)
	require.True(t, created)
	_, wantAdd := svc.AddParticipants(ctx, me, g.ID, []string{unknown})
	require.Equal(t, errs.Validation, errs.CodeOf(wantAdd), "%v", wantAdd)
	for _, who := range []identity.Principal{private, colleaguesOnly, nobody} {
		_, err := svc.AddParticipants(ctx, me, g.ID, []string{who.UserID})
		sameAnswer(t, wantAdd, err, unknown, who.UserID)
	}
	g, err = svc.AddParticipants(ctx, me, g.ID, []string{open2.UserID})
	require.NoError(t, err)
	assert.Len(t, g.Participants, 3)
	for _, pt := range g.Participants {
		assert.NotContains(t, []string{private.UserID, colleaguesOnly.UserID, nobody.UserID}, pt.UserID)
	}
}

// TestClosingDoesNotEndAConversation: allowMessagesFrom and visibility stop new conversations;
// one that exists goes on, and asking for it again finds it.
func TestClosingDoesNotEndAConversation(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := service(pool)
	me := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	peer := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	c, created, err := svc.Create(ctx, me, messaging.NewInput{ParticipantIDs: []string{peer.UserID}})
	require.NoError(t, err)
	require.True(t, created)

	_, err = pool.Exec(ctx, `UPDATE users SET profile_visibility = 'private', allow_messages_from = 'nobody' WHERE id = $1`, peer.UserID)
	require.NoError(t, err)
	again, created, err := svc.Create(ctx, me, messaging.NewInput{ParticipantIDs: []string{peer.UserID}})
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, c.ID, again.ID)
	_, _, err = svc.Send(ctx, me, messaging.SendRequest{ConversationID: c.ID, Content: "still here"})
	require.NoError(t, err)

	stranger := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	_, _, err = svc.Create(ctx, stranger, messaging.NewInput{ParticipantIDs: []string{peer.UserID}})
	assert.Equal(t, errs.Validation, errs.CodeOf(err), "but nobody new: %v", err)
}

func TestSearchInAConversationOfOthersIsNotFound(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := service(pool)
	a := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	b := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	outsider := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	c, _, err := svc.Create(ctx, a, messaging.NewInput{ParticipantIDs: []string{b.UserID}})
	require.NoError(t, err)
	_, _, err = svc.Send(ctx, a, messaging.SendRequest{ConversationID: c.ID, Content: "vibration sensors"})
	require.NoError(t, err)

	pg, err := svc.Search(ctx, b, "sensors", c.ID, 0, "")
	require.NoError(t, err)
	assert.Len(t, pg.Items, 1)
	for _, id := range []string{c.ID, uuid.NewString(), "not-an-id"} {
		_, err := svc.Search(ctx, outsider, "sensors", id, 0, "")
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%s: %v", id, err)
	}
}

// TestBlockingNeedsKnowingOf: a hidden stranger cannot be blocked (that would tell they exist
// and show their name in the block list), someone met in a conversation can, however hidden.
func TestBlockingNeedsKnowingOf(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := service(pool)
	me := someone(t, pool, identity.VisibilityPublic, identity.MessagesFromAnyone)
	stranger := someone(t, pool, identity.VisibilityPrivate, identity.MessagesFromAnyone)
	met := someone(t, pool, identity.VisibilityPrivate, identity.MessagesFromAnyone)
	_, _, err := svc.Create(ctx, met, messaging.NewInput{ParticipantIDs: []string{me.UserID}})
	require.NoError(t, err)

	want := svc.Block(ctx, me, uuid.NewString())
	require.Equal(t, errs.NotFound, errs.CodeOf(want))
	assert.Equal(t, want.Error(), svc.Block(ctx, me, stranger.UserID).Error())
	require.NoError(t, svc.Block(ctx, me, met.UserID))
	list, err := svc.Blocked(ctx, me)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, met.UserID, list[0].ID)
}
