package identity

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
)

// Industries, organization sizes and Saudi cities are the frontend's sign-up lists, verbatim.
var (
	Industries = []string{
		"Electronics Manufacturing", "Automotive Manufacturing", "Plastics Manufacturing",
		"Textile Manufacturing", "Food & Beverage", "Pharmaceutical", "Chemical Processing",
		"Metal Processing", "Aerospace", "Other",
	}
	OrganizationSizes = []string{"startup", "small", "medium", "large", "enterprise"}
	SaudiCities       = []string{
		"Riyadh", "Jeddah", "Dammam", "Mecca", "Medina", "Khobar", "Tabuk", "Buraidah",
		"Khamis Mushait", "Hail", "Jubail", "Abha", "Yanbu", "Other",
	}
	Languages = []string{"en", "ar"}
)

// DefaultCountry is the country the sign-up form preselects.
const DefaultCountry = "Saudi Arabia"

// SignUp is what the sign-up form sends, after the auth core has taken email and password.
type SignUp struct {
	UserID             string
	Email              string
	FirstName          string
	LastName           string
	OrganizationName   string
	Industry           string
	OrganizationSize   string
	Country            string
	City               string
	LanguagePreference string
	// InvitationToken, when set, joins the inviting organization instead of founding one; the
	// organization fields are then ignored.
	InvitationToken string
}

// Normalize trims every field and fills defaults.
func (s *SignUp) Normalize() {
	for _, f := range []*string{&s.Email, &s.FirstName, &s.LastName, &s.OrganizationName, &s.Industry,
		&s.OrganizationSize, &s.Country, &s.City, &s.LanguagePreference, &s.InvitationToken} {
		*f = strings.TrimSpace(*f)
	}
	// An address CheckEmail refuses stays as sent (lower-cased) for Validate to report.
	if email, msg := CheckEmail(s.Email); msg == "" {
		s.Email = email
	} else {
		s.Email = strings.ToLower(s.Email)
	}
	if s.Country == "" {
		s.Country = DefaultCountry
	}
	if s.LanguagePreference == "" {
		s.LanguagePreference = "en"
	}
}

// Validate checks every field and returns one error per bad field (the password is checked by
// ValidatePassword, before the core sees it). An invited sign-up has no organization fields.
func (s SignUp) Validate() []errs.FieldError {
	var out []errs.FieldError
	add := func(field, msg string) { out = append(out, errs.FieldError{Field: field, Message: msg}) }
	if msg := ValidateEmail(s.Email); msg != "" {
		add("email", msg)
	}
	if msg := ValidateName(s.FirstName, 1, 50); msg != "" {
		add("firstName", msg)
	}
	if msg := ValidateName(s.LastName, 1, 50); msg != "" {
		add("lastName", msg)
	}
	if msg := OneOf(s.LanguagePreference, Languages); msg != "" {
		add("languagePreference", msg)
	}
	if s.InvitationToken != "" {
		return out
	}
	if msg := ValidateName(s.OrganizationName, 2, 100); msg != "" {
		add("organizationName", msg)
	}
	if msg := OneOf(s.Industry, Industries); msg != "" {
		add("industry", msg)
	}
	if msg := OneOf(s.OrganizationSize, OrganizationSizes); msg != "" {
		add("organizationSize", msg)
	}
	if msg := ValidateName(s.Country, 2, 56); msg != "" {
		add("country", msg)
	}
	if msg := ValidateCity(s.Country, s.City); msg != "" {
		add("city", msg)
	}
	return out
}

// ValidateEmail returns "" for an address in normal form (NormalizeEmail), else why not. Callers
// that take an address from outside should call NormalizeEmail instead.
func ValidateEmail(email string) string {
	normal, msg := CheckEmail(email)
	if msg != "" {
		return msg
	}
	if normal != email {
		// Upper case, white space around it or decomposed accents: NormalizeEmail was skipped.
		return "is not in normal form (lower case, Unicode NFC)"
	}
	return ""
}

// ValidateName checks a free-text name: length in characters (Arabic counts per letter), no
// control characters.
func ValidateName(s string, min, max int) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return "is required"
	case n < min:
		return "is too short (at least " + strconv.Itoa(min) + " characters)"
	case n > max:
		return "is too long (at most " + strconv.Itoa(max) + " characters)"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}

// ValidateCity accepts the frontend's list for Saudi Arabia and any plausible name elsewhere.
func ValidateCity(country, city string) string {
	if country == DefaultCountry {
		return OneOf(city, SaudiCities)
	}
	return ValidateName(city, 2, 50)
}

// OneOf returns "" when v is one of allowed.
func OneOf(v string, allowed []string) string {
	if v == "" {
		return "is required"
	}
	if !slices.Contains(allowed, v) {
		return "must be one of: " + strings.Join(allowed, ", ")
	}
	return ""
}

// ValidatePassword is the password policy: 8 to 128 characters with at least one letter and one
// digit, not the email and not one of the most common passwords.
func ValidatePassword(password, email string) string {
	n := utf8.RuneCountInString(password)
	if n < 8 {
		return "must be at least 8 characters"
	}
	if n > 128 {
		return "must be at most 128 characters"
	}
	var letter, digit bool
	for _, r := range password {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	if !letter || !digit {
		return "must contain at least one letter and one number"
	}
	lower := strings.ToLower(password)
	if email != "" && (lower == strings.ToLower(email) || lower == strings.ToLower(strings.Split(email, "@")[0])) {
		return "must not be your email address"
	}
	if slices.Contains(commonPasswords, lower) {
		return "is too common; choose another"
	}
	return ""
}

// commonPasswords that pass the letter-and-digit rule; the policy's cheap guard against the
// first guesses of a credential-stuffing list.
var commonPasswords = []string{
	"password1", "password123", "passw0rd", "abc12345", "abcd1234", "qwerty123", "qwerty12",
	"1q2w3e4r", "1qaz2wsx", "zaq12wsx", "iloveyou1", "welcome1", "welcome123", "admin123",
	"letmein1", "monkey123", "dragon123", "football1", "baseball1", "sunshine1", "princess1",
	"trustno1", "123qweasd", "qwe123qwe", "q1w2e3r4", "a1b2c3d4", "test1234", "changeme1",
	"p@ssw0rd", "p@ssword1", "password1!", "12345678a", "a12345678", "123456789a", "aa123456",
}
