package identity_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
		problem        string // a fragment of the refusal; "" when accepted
	}{
		// What the SDK and the core did already: trim and lower-case the whole address.
		{"plain", "sara@example.com", "sara@example.com", ""},
		{"trimmed and lower-cased", "  Sara.Ahmed@Example.COM\t", "sara.ahmed@example.com", ""},
		{"plus and dots", "sara+news.x@mail.example.co.uk", "sara+news.x@mail.example.co.uk", ""},
		{"composed accents stay", "jos\u00e9@example.com", "jos\u00e9@example.com", ""},
		{"decomposed accents are composed (NFC)", "jose\u0301@example.com", "jos\u00e9@example.com", ""},
		{"Arabic local part", "\u0633\u0627\u0631\u0629@example.com", "\u0633\u0627\u0631\u0629@example.com", ""},

		{"empty", "   ", "", "is required"},
		{"zero-width space", "sa\u200bra@example.com", "", "U+200B"},
		{"zero-width space in front", "\u200bsara@example.com", "", "U+200B"},
		{"right-to-left override", "sara\u202e@example.com", "", "U+202E"},
		{"left-to-right mark", "sara@\u200eexample.com", "", "U+200E"},
		{"first strong isolate", "sara\u2068@example.com", "", "U+2068"},
		{"byte-order mark in front", "\ufeffsara@example.com", "", "U+FEFF"},
		{"byte-order mark at the end", "sara@example.com\ufeff", "", "U+FEFF"},
		{"zero-width joiner", "sa\u200dra@example.com", "", "U+200D"},
		{"word joiner", "sa\u2060ra@example.com", "", "U+2060"},
		{"soft hyphen", "sara@exam\u00adple.com", "", "U+00AD"},
		{"NUL", "sara\x00@example.com", "", "U+0000"},
		{"bell", "sara\a@example.com", "", "U+0007"},
		{"DEL", "sara\x7f@example.com", "", "U+007F"},
		{"line separator", "sara\u2028@example.com", "", "U+2028"},
		{"paragraph separator", "sara\u2029@example.com", "", "U+2029"},
		{"variation selector", "sara\ufe0f@example.com", "", "U+FE0F"},
		{"Hangul filler", "sara\u3164@example.com", "", "U+3164"},
		{"private use", "sara\ue000@example.com", "", "U+E000"},
		{"non-character", "sara\ufdd0@example.com", "", "U+FDD0"},
		{"tag character", "sara\U000E0041@example.com", "", "U+E0041"},
		{"space inside", "sara ahmed@example.com", "", "must not contain spaces"},
		{"no-break space inside", "sara\u00a0@example.com", "", "must not contain spaces"},
		{"ideographic space inside", "sara\u3000@example.com", "", "must not contain spaces"},
		{"tab inside", "sara\t@example.com", "", "U+0009"},
		{"invalid UTF-8", "sara\xff@example.com", "", "not valid UTF-8"},
		{"display name", "Sara <sara@example.com>", "", "must not contain spaces"},
		{"display name without a space", "<sara@example.com>", "", "not a valid email address"},
		{"no dot in the domain", "sara@localhost", "", "not a valid email address"},
		{"no at", "sara.example.com", "", "not a valid email address"},
		{"too long", strings.Repeat("a", 250) + "@x.co", "", "at most 254"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.NormalizeEmail(tt.in)
			_, problem := identity.CheckEmail(tt.in)
			if tt.problem == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				assert.Empty(t, problem)
				assert.Empty(t, identity.ValidateEmail(got), "the normal form passes ValidateEmail")
				again, err := identity.NormalizeEmail(got)
				require.NoError(t, err)
				assert.Equal(t, got, again, "normalising is idempotent")
				return
			}
			require.Error(t, err)
			e, ok := errs.As(err)
			require.True(t, ok, "a domain error: %v", err)
			assert.Equal(t, errs.Validation, e.Code)
			require.Len(t, e.Fields, 1)
			assert.Equal(t, "email", e.Fields[0].Field)
			assert.Contains(t, e.Fields[0].Message, tt.problem)
			assert.Equal(t, e.Fields[0].Message, problem, "CheckEmail says the same")
			assert.Equal(t, problem, identity.ValidateEmail(tt.in), "ValidateEmail refuses it too")
		})
	}
}

// TestValidateEmailWantsTheNormalForm: ValidateEmail is for addresses already normalised; one
// that skipped NormalizeEmail is refused rather than stored in a second spelling.
func TestValidateEmailWantsTheNormalForm(t *testing.T) {
	for _, in := range []string{"Sara@example.com", " sara@example.com", "jose\u0301@example.com"} {
		assert.Contains(t, identity.ValidateEmail(in), "normal form", in)
	}
}

// TestSignUpNormalizesTheEmail: the sign-up stores the normal form and reports a look-alike on
// the email field.
func TestSignUpNormalizesTheEmail(t *testing.T) {
	s := identity.SignUp{Email: " Jose\u0301@Example.com ", FirstName: "Jos\u00e9", LastName: "Ahmed", InvitationToken: "t"}
	s.Normalize()
	assert.Equal(t, "jos\u00e9@example.com", s.Email)
	assert.Empty(t, s.Validate())

	s = identity.SignUp{Email: "\u200bsara@example.com", FirstName: "Sara", LastName: "Ahmed", InvitationToken: "t"}
	s.Normalize()
	bad := s.Validate()
	require.Len(t, bad, 1)
	assert.Equal(t, "email", bad[0].Field)
	assert.Contains(t, bad[0].Message, "U+200B")
}
