package page_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/page"
)

type key struct {
	At string `json:"at"`
	ID string `json:"id"`
}

func TestDecodeRefusesForgedCursors(t *testing.T) {
	var k key
	assert.NoError(t, page.Decode(page.Encode(key{"2026-12-05", "abc"}), &k))
	assert.Equal(t, "abc", k.ID)
	for name, raw := range map[string]string{
		"NUL in a string": `{"at":"x","id":"a\u0000b"}`,
		"invalid UTF-8":   "{\"at\":\"\xff\",\"id\":\"a\"}",
		"a control":       `{"at":"\u0007","id":"a"}`,
		"not JSON":        `{"at":`,
		"wrong type":      `{"at":1,"id":"a"}`,
	} {
		err := page.Decode(base64.RawURLEncoding.EncodeToString([]byte(raw)), &k)
		assert.Equal(t, errs.Validation, errs.CodeOf(err), name)
	}
	assert.Equal(t, errs.Validation, errs.CodeOf(page.Decode("!!not base64", &k)))
}
