package identity_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/domain/identity"
)

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		password, email, want string
	}{
		{"Str0ng-pass", "a@b.co", ""},
		{"كلمةسر١٢٣٤", "a@b.co", ""}, // Arabic letters and digits count
		{"short1", "", "at least 8"},
		{strings.Repeat("a1", 65), "", "at most 128"},
		{"onlyletters", "", "letter and one number"},
		{"12345678", "", "letter and one number"},
		{"Sara.Ahmed1", "sara.ahmed1@x.co", "must not be your email"},
		{"password123", "", "too common"},
		{"PassWord123", "", "too common"},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			got := identity.ValidatePassword(tt.password, tt.email)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.want)
			}
		})
	}
}

func TestSignUpValidate(t *testing.T) {
	valid := func() identity.SignUp {
		return identity.SignUp{Email: " Sara@Example.COM ", FirstName: "Sara", LastName: "Ahmed",
			OrganizationName: "Advanced Electronics", Industry: "Aerospace", OrganizationSize: "small", City: "Jeddah"}
	}
	tests := []struct {
		name  string
		edit  func(*identity.SignUp)
		field string
	}{
		{"valid", func(*identity.SignUp) {}, ""},
		{"display-name email", func(s *identity.SignUp) { s.Email = "Sara <sara@example.com>" }, "email"},
		{"email without a dot in the domain", func(s *identity.SignUp) { s.Email = "sara@localhost" }, "email"},
		{"first name with a control character", func(s *identity.SignUp) { s.FirstName = "Sa\x07ra" }, "firstName"},
		{"Arabic names count letters", func(s *identity.SignUp) { s.LastName = strings.Repeat("ع", 50) }, ""},
		{"name too long", func(s *identity.SignUp) { s.LastName = strings.Repeat("ع", 51) }, "lastName"},
		{"industry off the list", func(s *identity.SignUp) { s.Industry = "aerospace" }, "industry"},
		{"size off the list", func(s *identity.SignUp) { s.OrganizationSize = "tiny" }, "organizationSize"},
		{"city off the Saudi list", func(s *identity.SignUp) { s.City = "Cairo" }, "city"},
		{"city elsewhere is free", func(s *identity.SignUp) { s.Country, s.City = "Egypt", "Cairo" }, ""},
		{"language", func(s *identity.SignUp) { s.LanguagePreference = "de" }, "languagePreference"},
		{"invited: no organization needed", func(s *identity.SignUp) {
			s.InvitationToken, s.OrganizationName, s.Industry, s.OrganizationSize, s.City = "t", "", "", "", ""
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.edit(&s)
			s.Normalize()
			got := s.Validate()
			if tt.field == "" {
				assert.Empty(t, got)
				return
			}
			if assert.Len(t, got, 1) {
				assert.Equal(t, tt.field, got[0].Field)
			}
		})
	}
	s := valid()
	s.Normalize()
	assert.Equal(t, "sara@example.com", s.Email)
	assert.Equal(t, identity.DefaultCountry, s.Country)
	assert.Equal(t, "en", s.LanguagePreference)
}
