package text_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/text"
)

func TestProblem(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain", ""},
		{"عربي ✓ 😀", ""},
		{"lines\nand\ttabs\r\n", ""},
		{"a\x00b", "contains a NUL character"},
		{"ab\xffcd", "is not valid UTF-8"},
		{"\xc3\x28abc", "is not valid UTF-8"},
		{"bell\a", "contains a control character (U+0007)"},
		{"esc\x1b[31m", "contains a control character (U+001B)"},
		{"c1\u0085", "contains a control character (U+0085)"},
		{"del\x7f", "contains a control character (U+007F)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, text.Problem(tt.in), "%q", tt.in)
	}
	err := text.Check("bio", "a\x00b")
	assert.Equal(t, errs.Validation, errs.CodeOf(err))
	e, _ := errs.As(err)
	assert.Equal(t, "bio", e.Fields[0].Field)
	assert.NoError(t, text.Check("bio", "fine"))
}
