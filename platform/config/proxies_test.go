package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/config"
)

// TestTrustedProxies: nothing is trusted unless named, entries must be addresses or networks, and
// production refuses a network of every address (any client could then choose its own address in
// X-Forwarded-For and escape the per-address sign-in limit).
func TestTrustedProxies(t *testing.T) {
	production := []string{"P2P_ENV=production", "P2P_MAIL_SMTP_HOST=smtp.example"}
	tests := []struct {
		name  string
		env   []string
		want  []string // the parsed list, when valid
		fault string   // a fragment of the error, when not
	}{
		{"default trusts none", nil, nil, ""},
		{"addresses and networks", []string{"P2P_HTTP_TRUSTED_PROXIES=10.0.0.5, 172.30.80.0/24,fd00::/8"},
			[]string{"10.0.0.5", "172.30.80.0/24", "fd00::/8"}, ""},
		{"not an address", []string{"P2P_HTTP_TRUSTED_PROXIES=nginx"}, nil, `"nginx" is neither an IP address nor a CIDR network`},
		{"bad network", []string{"P2P_HTTP_TRUSTED_PROXIES=10.0.0.0/33"}, nil, "neither an IP address nor a CIDR network"},
		{"every IPv4 address outside production", []string{"P2P_HTTP_TRUSTED_PROXIES=0.0.0.0/0"}, []string{"0.0.0.0/0"}, ""},
		{"every IPv4 address in production", append([]string{"P2P_HTTP_TRUSTED_PROXIES=0.0.0.0/0"}, production...), nil, "trusts every address"},
		{"every IPv6 address in production", append([]string{"P2P_HTTP_TRUSTED_PROXIES=10.0.0.5,::/0"}, production...), nil, `"::/0" trusts every address`},
		{"a load balancer in production", append([]string{"P2P_HTTP_TRUSTED_PROXIES=172.30.80.10"}, production...), []string{"172.30.80.10"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load("", tt.env)
			if tt.fault != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "P2P_HTTP_TRUSTED_PROXIES")
				assert.Contains(t, err.Error(), tt.fault)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.HTTP.TrustedProxies)
		})
	}
}
