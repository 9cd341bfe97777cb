package auth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/supertokens/supertokens-golang/recipe/emailpassword/epmodels"
)

// TestResetPasswordGuard: a null token is answered as the SDK answers a token of any other type
// that is not a string (its own check would panic on it); every other body reaches the SDK whole.
func TestResetPasswordGuard(t *testing.T) {
	tests := []struct {
		name, body string
		guarded    bool
	}{
		{"null token", `{"method":"token","token":null,"formFields":[]}`, true},
		{"null token with spaces", `{"token" :  null }`, true},
		{"string token", `{"method":"token","token":"abc","formFields":[]}`, false},
		{"number token", `{"token":42}`, false},
		{"object token", `{"token":{"a":null}}`, false},
		{"no token", `{"formFields":[]}`, false},
		{"null body", `null`, false},
		{"not JSON", `{"token":`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reached string
			h := &routes{sdk: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				reached = string(b)
				w.WriteHeader(http.StatusTeapot)
				_, _ = w.Write([]byte("the SDK's answer"))
			})}
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, BasePath+"/user/password/reset", strings.NewReader(tt.body))
			h.resetPassword(c)
			if !tt.guarded {
				assert.Equal(t, http.StatusTeapot, w.Code)
				assert.Equal(t, tt.body, reached, "the SDK reads the body as sent")
				return
			}
			assert.Empty(t, reached, "the SDK is not called")
			require.Equal(t, http.StatusBadRequest, w.Code)
			var got map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			assert.Equal(t, map[string]any{"message": "The password reset token must be a string"}, got)
		})
	}
}

func TestNormalEmail(t *testing.T) {
	in := []epmodels.TypeFormField{
		{ID: "email", Value: " Jose\u0301@Example.COM "},
		{ID: "password", Value: " Keep Me1 "},
		{ID: "firstName", Value: 42},
	}
	out := normalEmail(in)
	assert.Equal(t, "jos\u00e9@example.com", out[0].Value)
	assert.Equal(t, " Keep Me1 ", out[1].Value, "only the email changes")
	assert.Equal(t, 42, out[2].Value)
	assert.Equal(t, " Jose\u0301@Example.COM ", in[0].Value, "the caller's slice is left alone")

	bad := normalEmail([]epmodels.TypeFormField{{ID: "email", Value: "\u200bsara@example.com"}})
	assert.Equal(t, "\u200bsara@example.com", bad[0].Value, "what cannot be normalised is the validator's to refuse")
}

func TestRoughly(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "1 second"},
		{300 * time.Millisecond, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{119 * time.Second, "119 seconds"},
		{2 * time.Minute, "2 minutes"},
		{2*time.Minute + time.Second, "3 minutes"},
		{time.Hour, "60 minutes"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, roughly(tt.d), tt.d.String())
	}
}
