package identity

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/p2psandbox/hub/domain/errs"
)

// Every address that enters the product (sign-up, sign-in, a password reset, an invitation, an
// email change) goes through CheckEmail, so that an address has one spelling everywhere: in our
// tables, in the auth core and in the sign-in limiter's keys. Two addresses that look the same on
// screen must not be two accounts, hence the refusal of invisible characters (a zero-width space,
// a byte-order mark, a right-to-left override) rather than their silent removal: the sender meant
// something by them, and we would rather say so than guess.

// maxEmailLength is RFC 5321's limit on a forward path, less the angle brackets.
const maxEmailLength = 254

// NormalizeEmail returns the normal form of an address: trimmed, lower-cased (as the SuperTokens
// core does: the whole address, not only the domain, so that our copy and the core's agree), in
// Unicode NFC. An address with control, format, bidi, zero-width or other invisible characters,
// with white space inside, or not a plain address, is refused with a validation error on the
// field "email".
func NormalizeEmail(s string) (string, error) {
	email, msg := CheckEmail(s)
	if msg != "" {
		return email, errs.Fields(errs.FieldError{Field: "email", Message: msg})
	}
	return email, nil
}

// CheckEmail is NormalizeEmail for callers that report the problem themselves (the auth SDK's
// field validators): the normal form and "", or the trimmed input and why it is refused, as the
// end of a sentence that starts with the field's name.
func CheckEmail(s string) (email, problem string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return s, "is required"
	}
	if !utf8.ValidString(s) {
		return s, "is not valid UTF-8"
	}
	for _, r := range s {
		if invisible(r) {
			return s, fmt.Sprintf("must not contain invisible, control or text-direction characters (U+%04X)", r)
		}
		if unicode.IsSpace(r) {
			return s, "must not contain spaces"
		}
	}
	email = norm.NFC.String(strings.ToLower(s))
	if len(email) > maxEmailLength {
		return email, fmt.Sprintf("must be at most %d characters", maxEmailLength)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return email, "is not a valid email address"
	}
	return email, ""
}

// invisible reports the characters that change how an address looks, or nothing at all, without
// being part of it: controls (Cc), format characters (Cf: zero-width spaces and joiners, the
// byte-order mark, bidi embeddings, overrides and isolates), line and paragraph separators,
// private-use and surrogate code points, non-characters, variation selectors and the other
// default-ignorable code points (the Hangul fillers, for instance).
func invisible(r rune) bool {
	return r == utf8.RuneError ||
		unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs,
			unicode.Noncharacter_Code_Point, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}
