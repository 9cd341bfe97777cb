package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/domain/identity"
)

func TestVerifiedCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	exp := float64(now.Add(time.Hour).Unix())
	p := identity.Principal{UserID: "u", OrganizationID: "o"}
	tests := []struct {
		name    string
		payload map[string]any
		current string
		at      time.Time
		cached  bool
	}{
		{"a plain token is cached until exp", map[string]any{"exp": exp}, "tok", now, true},
		{"not after exp", map[string]any{"exp": exp}, "tok", now.Add(time.Hour), false},
		{"a token whose first use commits a rotation is not", map[string]any{"exp": exp, "parentRefreshTokenHash1": "h"}, "tok", now, false},
		{"a token the SDK replaced is not", map[string]any{"exp": exp}, "newer", now, false},
		{"a token without exp is not", map[string]any{}, "tok", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerified(10)
			v.now = func() time.Time { return now }
			v.put("tok", tt.payload, tt.current, p)
			v.now = func() time.Time { return tt.at }
			got, ok := v.get("tok")
			assert.Equal(t, tt.cached, ok)
			if ok {
				assert.Equal(t, p, got)
			}
			_, ok = v.get("tok-tampered")
			assert.False(t, ok, "another token string never hits")
		})
	}
}
