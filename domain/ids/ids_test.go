package ids

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/domain/errs"
)

func TestCheckList(t *testing.T) {
	a, b := New(), New()
	for _, tc := range []struct {
		name string
		list []string
		max  int
		want []string // fields refused
	}{
		{"none", nil, 2, nil},
		{"two", []string{a, b}, 2, nil},
		{"too many", []string{a, b, New()}, 2, []string{"f"}},
		{"not an id", []string{a, "../x", "A" + a[1:] + "0"}, 3, []string{"f[1]", "f[2]"}},
		{"twice", []string{a, b, a}, 3, []string{"f[2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, fe := range CheckList("f", tc.list, tc.max) {
				got = append(got, fe.Field)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Equal(t, []errs.FieldError{{Field: "f", Message: "must have at most 1 items"}}, CheckList("f", []string{a, b}, 1))
}
