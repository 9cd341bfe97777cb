package deploy_test

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The observability profile's Alertmanager: its configuration is read by Alertmanager's own
// loader (the one `amtool check-config` uses), every alert of alerts.yml reaches the receiver
// its severity names, and the files are where compose mounts them and Prometheus looks.

// receiverFor walks the routing tree as Alertmanager does for an alert with labels: the first
// child route that matches (and, unless it says continue, only that one), else the route's own
// receiver.
func receiverFor(r *amconfig.Route, lset model.LabelSet) []string {
	var out []string
	for _, child := range r.Routes {
		if !labels.Matchers(child.Matchers).Matches(lset) {
			continue
		}
		out = append(out, receiverFor(child, lset)...)
		if !child.Continue {
			return out
		}
	}
	if len(out) == 0 {
		out = []string{r.Receiver}
	}
	return out
}

func TestAlertmanagerRoutesEveryAlert(t *testing.T) {
	cfg, err := amconfig.LoadFile("alertmanager/alertmanager.yml")
	require.NoError(t, err, "Alertmanager's loader accepts the file")

	bySeverity := map[string]string{"critical": "ops-page", "warning": "ops-ticket"}
	rules := loadRules(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			lset := model.LabelSet{"alertname": model.LabelValue(r.Alert), "instance": "hub1"}
			for k, v := range r.Labels {
				lset[model.LabelName(k)] = model.LabelValue(v)
			}
			want, ok := bySeverity[r.Labels["severity"]]
			require.True(t, ok, "%s: a severity the routes know", r.Alert)
			assert.Equal(t, []string{want}, receiverFor(cfg.Route, lset), r.Alert)
		}
	}
	require.Positive(t, n)

	// Every receiver sends somewhere: the webhook URL file compose mounts.
	am := loadObservability(t).Services["alertmanager"]
	require.Len(t, am.Configs, 1)
	urlAt := am.Configs[0].Target
	for _, rc := range cfg.Receivers {
		require.NotEmpty(t, rc.WebhookConfigs, rc.Name)
		for _, w := range rc.WebhookConfigs {
			assert.Equal(t, urlAt, w.URLFile, "%s reads the mounted URL", rc.Name)
		}
	}

	// A hub node that is down silences its own other alerts, not another node's.
	down := model.LabelSet{"alertname": "HubNodeDown", "instance": "hub1", "severity": "critical"}
	lag := model.LabelSet{"alertname": "HubBroadcastLagHigh", "instance": "hub1", "severity": "warning"}
	inhibited := func(target model.LabelSet, source model.LabelSet) bool {
		for _, ir := range cfg.InhibitRules {
			if !labels.Matchers(ir.SourceMatchers).Matches(source) || !labels.Matchers(ir.TargetMatchers).Matches(target) {
				continue
			}
			same := true
			for _, l := range ir.Equal {
				same = same && source[model.LabelName(l)] == target[model.LabelName(l)]
			}
			if same {
				return true
			}
		}
		return false
	}
	assert.True(t, inhibited(lag, down))
	other := lag.Clone()
	other["instance"] = "hub2"
	assert.False(t, inhibited(other, down))
	assert.False(t, inhibited(down, down), "the cause itself still fires")
}

func TestComposeAlertmanager(t *testing.T) {
	p := loadObservability(t)
	assert.NotContains(t, loadProject(t).ServiceNames(), "alertmanager", "only with the profile")
	am, ok := p.Services["alertmanager"]
	require.True(t, ok)
	assert.Equal(t, []string{"observability"}, am.Profiles)
	assert.NotNil(t, am.HealthCheck)
	assert.Contains(t, am.Command, "--config.file="+mount(t, am, "deploy/alertmanager/alertmanager.yml"))

	// The image is the release whose loader the test above runs.
	image, tag, _ := strings.Cut(am.Image, ":")
	assert.Equal(t, "prom/alertmanager", image)
	gomod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*github\.com/prometheus/alertmanager (v\S+)`).FindSubmatch(gomod)
	require.NotNil(t, m, "go.mod requires alertmanager")
	modVersion := string(m[1])
	assert.Equal(t, modVersion, tag, "the image and go.mod's alertmanager are one release")

	// Prometheus sends its alerts to the service, on the port Alertmanager listens on.
	var prom struct {
		Alerting struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
	}
	b, err := os.ReadFile("prometheus/prometheus.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &prom))
	require.Len(t, prom.Alerting.Alertmanagers, 1)
	require.Len(t, prom.Alerting.Alertmanagers[0].StaticConfigs, 1)
	targets := prom.Alerting.Alertmanagers[0].StaticConfigs[0].Targets
	require.Len(t, targets, 1)
	host, port, err := net.SplitHostPort(targets[0])
	require.NoError(t, err)
	assert.Equal(t, "alertmanager", host)
	assert.Equal(t, "9093", port)
}
