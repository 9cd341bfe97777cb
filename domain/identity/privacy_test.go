package identity

import (
	"fmt"
	"testing"
)

// TestPrivacyRule walks the rule over every profile visibility, every allowMessagesFrom, a viewer
// of the same or another organization, and a viewer's organization verified or not. Each row
// says what the viewer may do with the subject: see the profile (and so the presence), and start
// a conversation under each allowMessagesFrom in the order anyone, verified, organization,
// nobody.
func TestPrivacyRule(t *testing.T) {
	const Y, N = true, false
	rows := []struct {
		visibility           string
		sameOrg, verifiedOrg bool
		profile              bool
		messages             [4]bool
	}{
		// Another organization, not verified.
		{VisibilityPublic, N, N, Y, [4]bool{Y, N, N, N}},
		{VisibilityVerified, N, N, N, [4]bool{N, N, N, N}},
		{VisibilityOrganization, N, N, N, [4]bool{N, N, N, N}},
		{VisibilityPrivate, N, N, N, [4]bool{N, N, N, N}},
		// Another organization, verified.
		{VisibilityPublic, N, Y, Y, [4]bool{Y, Y, N, N}},
		{VisibilityVerified, N, Y, Y, [4]bool{Y, Y, N, N}},
		{VisibilityOrganization, N, Y, N, [4]bool{N, N, N, N}},
		{VisibilityPrivate, N, Y, N, [4]bool{N, N, N, N}},
		// A colleague: the organization knows its members, so only allowMessagesFrom counts for
		// messages; private still hides the profile from colleagues.
		{VisibilityPublic, Y, N, Y, [4]bool{Y, Y, Y, N}},
		{VisibilityVerified, Y, N, Y, [4]bool{Y, Y, Y, N}},
		{VisibilityOrganization, Y, N, Y, [4]bool{Y, Y, Y, N}},
		{VisibilityPrivate, Y, N, N, [4]bool{Y, Y, Y, N}},
		{VisibilityPublic, Y, Y, Y, [4]bool{Y, Y, Y, N}},
		{VisibilityVerified, Y, Y, Y, [4]bool{Y, Y, Y, N}},
		{VisibilityOrganization, Y, Y, Y, [4]bool{Y, Y, Y, N}},
		{VisibilityPrivate, Y, Y, N, [4]bool{Y, Y, Y, N}},
	}
	if len(MessageAudiences) != 4 {
		t.Fatalf("the table covers 4 values of allowMessagesFrom, there are %d", len(MessageAudiences))
	}
	for _, r := range rows {
		for i, allow := range MessageAudiences {
			name := fmt.Sprintf("%s/%s/sameOrg=%v/verified=%v", r.visibility, allow, r.sameOrg, r.verifiedOrg)
			t.Run(name, func(t *testing.T) {
				viewer := Party{UserID: "viewer", OrganizationID: "o1", VerifiedOrganization: r.verifiedOrg, Active: true}
				subject := Party{UserID: "subject", OrganizationID: "o2", Visibility: r.visibility, AllowMessagesFrom: allow, Active: true}
				if r.sameOrg {
					subject.OrganizationID = viewer.OrganizationID
					subject.VerifiedOrganization = viewer.VerifiedOrganization
				}
				if got := CanSeeProfile(viewer, subject); got != r.profile {
					t.Errorf("CanSeeProfile = %v, want %v", got, r.profile)
				}
				if got := CanSeePresence(viewer, subject); got != r.profile {
					t.Errorf("CanSeePresence = %v, want %v (presence follows the profile)", got, r.profile)
				}
				if got := CanMessage(viewer, subject); got != r.messages[i] {
					t.Errorf("CanMessage = %v, want %v", got, r.messages[i])
				}
			})
		}
	}
}

// TestPrivacyRuleEdges covers what holds whatever the settings say.
func TestPrivacyRuleEdges(t *testing.T) {
	open := Party{UserID: "u", OrganizationID: "o2", Visibility: VisibilityPublic, AllowMessagesFrom: MessagesFromAnyone, Active: true}
	viewer := Party{UserID: "v", OrganizationID: "o1", VerifiedOrganization: true, Active: true}
	tests := []struct {
		name             string
		viewer, subject  Party
		profile, message bool
	}{
		{"open to all", viewer, open, true, true},
		{"oneself, even private and deleted", open, with(open, func(p *Party) {
			p.Visibility, p.AllowMessagesFrom, p.Deleted, p.Active = VisibilityPrivate, MessagesFromNobody, true, false
		}), true, false},
		{"a removed user", viewer, with(open, func(p *Party) { p.Deleted, p.Active = true, false }), false, false},
		{"a deactivated user: seen, not reached", viewer, with(open, func(p *Party) { p.Active = false }), true, false},
		{"a removed colleague", with(viewer, func(p *Party) { p.OrganizationID = "o2" }),
			with(open, func(p *Party) { p.Deleted, p.Active = true, false }), false, false},
		{"a value the rule does not know hides and refuses", viewer,
			with(open, func(p *Party) { p.Visibility, p.AllowMessagesFrom = "friends", "friends" }), false, false},
		{"an empty value hides and refuses", viewer,
			with(open, func(p *Party) { p.Visibility, p.AllowMessagesFrom = "", "" }), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanSeeProfile(tt.viewer, tt.subject); got != tt.profile {
				t.Errorf("CanSeeProfile = %v, want %v", got, tt.profile)
			}
			if got := CanMessage(tt.viewer, tt.subject); got != tt.message {
				t.Errorf("CanMessage = %v, want %v", got, tt.message)
			}
		})
	}
}

func with(p Party, change func(*Party)) Party {
	change(&p)
	return p
}
