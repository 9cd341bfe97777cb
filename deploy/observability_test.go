package deploy_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"
	"unicode"

	"github.com/VictoriaMetrics/metricsql"
	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/platform/mongo"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/workers"
)

// The observability files: the alert rules and the dashboard may only name metrics our processes
// export, every query must parse, and the compose profile must mount the files where the
// configurations look for them. Nothing here starts a process or opens a connection.

const datasourceUID = "p2p-prometheus"

// ruleFile is the subset of Prometheus's rule file format we use; unknown keys fail the decode,
// so a typo (expresion:, label:) does not pass silently.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	f, err := os.Open("prometheus/alerts.yml")
	require.NoError(t, err)
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var rf ruleFile
	require.NoError(t, dec.Decode(&rf), "alerts.yml is a Prometheus rule file")
	require.NotEmpty(t, rf.Groups)
	return rf
}

// kind is what a registered name is, so that name_bucket is accepted only for a histogram.
type kind int

const (
	plain kind = iota
	histogram
)

// exportedMetrics lists the metric names our processes register, from the same constructors
// app.Build calls: the process registry (Go runtime with the scheduler histogram, process), HTTP,
// MongoDB, the PostgreSQL pool, the worker's queue, the hub and the outbox dispatcher. Collectors
// are described, not collected, so no pool, Redis or socket server is needed.
func exportedMetrics(t *testing.T) map[string]kind {
	t.Helper()
	names := map[string]kind{"up": plain} // set by Prometheus on every target

	base := metrics.NewRegistry()
	families, err := base.Gather()
	require.NoError(t, err)
	for _, mf := range families {
		k := plain
		if mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY {
			k = histogram
		}
		names[mf.GetName()] = k
	}

	rec := &recorder{t: t, names: names}
	metrics.NewHTTP(rec)
	mongo.NewMetrics(rec)
	rec.MustRegister(postgres.NewPoolCollector(nil))
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	rec.MustRegister(workers.NewQueueCollector(rdb, "default"))
	require.NoError(t, realtime.RegisterMetrics(rec))
	_, err = outbox.New(nil, outbox.Options{Registry: rec})
	require.NoError(t, err)
	return names
}

// recorder is a Registerer that keeps the names its collectors describe.
type recorder struct {
	t     *testing.T
	names map[string]kind
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	k := plain
	switch c.(type) {
	case prometheus.Histogram, *prometheus.HistogramVec, prometheus.Summary, *prometheus.SummaryVec:
		k = histogram
	}
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			r.t.Errorf("no name in %s", d)
			continue
		}
		r.names[m[1]] = k
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return false }

// promqlFuncs are the PromQL functions and aggregations our queries may use. metricsql parses
// MetricsQL, a superset of PromQL; this list keeps its extensions out of files Prometheus reads.
var promqlFuncs = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "topk": true, "bottomk": true,
	"quantile": true, "rate": true, "irate": true, "increase": true, "delta": true, "deriv": true,
	"histogram_quantile": true, "clamp_min": true, "clamp_max": true, "abs": true, "absent": true,
	"max_over_time": true, "min_over_time": true, "avg_over_time": true, "time": true, "vector": true,
}

// queryProblems parses expr and returns what is wrong with it: a parse error, a function
// Prometheus lacks, a rollup without a range, a metric no process exports. Grafana's
// $__rate_interval is replaced by a duration, as Grafana does before it sends the query.
func queryProblems(expr string, known map[string]kind) []string {
	expr = strings.ReplaceAll(expr, "$__rate_interval", "5m")
	e, err := metricsql.Parse(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	metricsql.VisitAll(e, func(e metricsql.Expr) {
		switch e := e.(type) {
		case *metricsql.FuncExpr:
			if !promqlFuncs[e.Name] {
				problems = append(problems, e.Name+" is not a PromQL function we allow")
			}
			if i := metricsql.GetRollupArgIdx(e); i >= 0 && i < len(e.Args) {
				// PromQL wants an explicit range (rate(x[5m])); MetricsQL would accept rate(x).
				if re, ok := e.Args[i].(*metricsql.RollupExpr); !ok || re.Window == nil {
					problems = append(problems, e.Name+" needs a range vector")
				}
			}
		case *metricsql.AggrFuncExpr:
			if !promqlFuncs[e.Name] {
				problems = append(problems, e.Name+" is not a PromQL aggregation we allow")
			}
		case *metricsql.MetricExpr:
			for _, group := range e.LabelFilterss {
				for _, f := range group {
					if f.Label == "__name__" && !exported(known, f.Value) {
						problems = append(problems, "no process exports "+f.Value)
					}
				}
			}
		}
	})
	return problems
}

func checkQuery(t *testing.T, where, expr string, known map[string]kind) {
	t.Helper()
	assert.Empty(t, queryProblems(expr, known), "%s: %s", where, expr)
}

func exported(known map[string]kind, name string) bool {
	if _, ok := known[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if stem, ok := strings.CutSuffix(name, suffix); ok && known[stem] == histogram {
			return true
		}
	}
	return false
}

// templateFuncs stand in for the functions Prometheus gives annotation templates.
var templateFuncs = template.FuncMap{
	"humanize": fmtAny, "humanizeDuration": fmtAny, "humanizePercentage": fmtAny, "humanize1024": fmtAny,
}

func fmtAny(any) string { return "" }

func isEnglish(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII && r != '…' && r != '’' {
			return false
		}
	}
	return true
}

func TestAlertRules(t *testing.T) {
	known := exportedMetrics(t)
	rf := loadRules(t)
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		assert.NotEmpty(t, g.Name)
		require.NotEmpty(t, g.Rules, g.Name)
		for _, r := range g.Rules {
			name := g.Name + "/" + r.Alert
			require.NotEmpty(t, r.Alert, "%s: only alerting rules here", g.Name)
			assert.Empty(t, r.Record, name)
			assert.False(t, seen[r.Alert], "alert %s defined twice", r.Alert)
			seen[r.Alert] = true
			assert.Regexp(t, `^[A-Z][A-Za-z0-9]+$`, r.Alert)

			checkQuery(t, name, r.Expr, known)

			d, err := time.ParseDuration(r.For)
			if assert.NoError(t, err, "%s: for: must be a duration", name) {
				assert.Positive(t, d, "%s: an alert fires after it holds for a while, not on one evaluation", name)
			}
			assert.Contains(t, []string{"critical", "warning"}, r.Labels["severity"], "%s: severity", name)
			for _, a := range []string{"summary", "description"} {
				text := r.Annotations[a]
				assert.NotEmpty(t, text, "%s: %s", name, a)
				assert.True(t, isEnglish(text), "%s: %s is in English", name, a)
				// Prometheus defines these variables ahead of every annotation template.
				_, err := template.New(a).Funcs(templateFuncs).Parse("{{$labels := .}}{{$externalLabels := .}}{{$value := .}}" + text)
				assert.NoError(t, err, "%s: %s is a valid template", name, a)
			}
			assert.True(t, strings.HasSuffix(strings.TrimSpace(r.Annotations["description"]), "."), "%s: the description is sentences", name)
		}
	}

	// docs/operations.md describes every alert.
	doc, err := os.ReadFile("../docs/operations.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(doc), "## Observability")
	require.True(t, ok, "docs/operations.md has an Observability section")
	for a := range seen {
		assert.True(t, strings.Contains(section, "`"+a+"`"), "docs/operations.md describes %s", a)
	}
}

// TestAlertRulesCatchUnknownMetrics: the check above fails on a metric nobody exports and on
// MetricsQL that Prometheus would refuse.
func TestAlertRulesCatchUnknownMetrics(t *testing.T) {
	known := exportedMetrics(t)
	for _, expr := range []string{
		`rate(hub_no_such_metric_total[5m]) > 0`,
		`rate(hub_events_sent_total) > 0`,         // no range
		`hub_connected_sockets_bucket`,            // not a histogram
		`range_median(hub_connected_sockets) > 1`, // MetricsQL only
		`sum(rate(hub_events_sent_total[5m]) > `,  // does not parse
		`histogram_quantile(0.9, pg_pool_acquires_total_bucket)`,
	} {
		assert.NotEmpty(t, queryProblems(expr, known), "%s must be refused", expr)
	}
	assert.Empty(t, queryProblems(`histogram_quantile(0.99, sum by (le) (rate(go_sched_latencies_seconds_bucket[5m])))`, known),
		"the scheduler histogram is exported")
}

type dashboard struct {
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels  []panel                  `json:"panels"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
}

func TestDashboard(t *testing.T) {
	known := exportedMetrics(t)
	b, err := os.ReadFile("grafana/dashboards/p2p-hub.json")
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	assert.NotEmpty(t, d.UID)
	assert.NotEmpty(t, d.Title)

	ids := map[int]bool{}
	var rows, graphs int
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			assert.Positive(t, p.ID, p.Title)
			assert.False(t, ids[p.ID], "panel id %d used twice", p.ID)
			ids[p.ID] = true
			assert.NotEmpty(t, p.Title, "panel %d has a title", p.ID)
			assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, p.Title)
			if p.Type == "row" {
				rows++
				walk(p.Panels)
				continue
			}
			graphs++
			if assert.NotNil(t, p.Datasource, p.Title) {
				assert.Equal(t, "prometheus", p.Datasource.Type, p.Title)
				assert.Equal(t, datasourceUID, p.Datasource.UID, "%s: the provisioned data source", p.Title)
			}
			require.NotEmpty(t, p.Targets, p.Title)
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				assert.False(t, refs[tg.RefID], "%s: refId %s twice", p.Title, tg.RefID)
				refs[tg.RefID] = true
				checkQuery(t, "panel "+p.Title, tg.Expr, known)
			}
		}
	}
	walk(d.Panels)
	assert.GreaterOrEqual(t, rows, 6)
	assert.GreaterOrEqual(t, graphs, 20)

	// Each row's title is in the docs.
	doc, err := os.ReadFile("../docs/operations.md")
	require.NoError(t, err)
	_, section, _ := strings.Cut(string(doc), "## Observability")
	for _, p := range d.Panels {
		if p.Type == "row" {
			assert.True(t, strings.Contains(section, p.Title), "docs/operations.md describes the row %q", p.Title)
		}
	}
}

func loadObservability(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithWorkingDirectory(".."),
		cli.WithEnv([]string{}),
		cli.WithProfiles([]string{"observability"}),
	)
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err)
	return p
}

// mount returns the container path where svc mounts the host file or directory that ends in src.
func mount(t *testing.T, svc types.ServiceConfig, src string) string {
	t.Helper()
	for _, v := range svc.Volumes {
		if strings.HasSuffix(v.Source, src) {
			assert.True(t, v.ReadOnly, "%s: %s is mounted read-only", svc.Name, src)
			return v.Target
		}
	}
	t.Fatalf("%s does not mount %s", svc.Name, src)
	return ""
}

func TestComposeObservabilityProfile(t *testing.T) {
	plainProject := loadProject(t)
	p := loadObservability(t)
	for _, name := range []string{"prometheus", "grafana"} {
		assert.NotContains(t, plainProject.ServiceNames(), name, "%s runs only with the profile", name)
		svc, ok := p.Services[name]
		require.True(t, ok, "the observability profile starts %s", name)
		assert.Equal(t, []string{"observability"}, svc.Profiles, name)
		image, tag, _ := strings.Cut(svc.Image, ":")
		assert.NotEmpty(t, image, name)
		assert.Regexp(t, `^v?\d+\.\d+\.\d+$`, tag, "%s: a pinned version", name)
		assert.NotNil(t, svc.HealthCheck, name)
	}

	// prometheus.yml: the rule file where it is mounted, the token where it is mounted, and
	// targets that are services of this file on the ports they serve /metrics on.
	prom := p.Services["prometheus"]
	assert.Contains(t, prom.Command, "--config.file="+mount(t, prom, "deploy/prometheus/prometheus.yml"))
	alertsAt := mount(t, prom, "deploy/prometheus/alerts.yml")
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			Authorization *struct {
				Type            string `yaml:"type"`
				CredentialsFile string `yaml:"credentials_file"`
			} `yaml:"authorization"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	b, err := os.ReadFile("prometheus/prometheus.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &cfg))
	assert.Equal(t, []string{alertsAt}, cfg.RuleFiles)

	require.Len(t, prom.Configs, 1)
	tokenAt := prom.Configs[0].Target
	token := p.Configs[prom.Configs[0].Source].Content
	wantPort := map[string]string{"hub": "8080", "worker": "9091"}
	want := map[string][]string{"hub": {"hub1", "hub2"}, "worker": {"worker"}}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName == "prometheus" {
			continue
		}
		hosts, ok := want[sc.JobName]
		require.True(t, ok, "unexpected job %s", sc.JobName)
		delete(want, sc.JobName)
		assert.Equal(t, "/metrics", sc.MetricsPath)
		if assert.NotNil(t, sc.Authorization, "%s: production /metrics asks for a token", sc.JobName) {
			assert.Equal(t, "Bearer", sc.Authorization.Type)
			assert.Equal(t, tokenAt, sc.Authorization.CredentialsFile, "%s: the mounted token", sc.JobName)
		}
		var got []string
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				require.NoError(t, err, target)
				assert.Equal(t, wantPort[sc.JobName], port, target)
				svc, ok := p.Services[host]
				if assert.True(t, ok, "%s is a compose service", host) {
					assert.Contains(t, svc.Environment, "P2P_HTTP_METRICS_TOKEN")
					assert.Equal(t, strings.TrimSpace(token), *svc.Environment["P2P_HTTP_METRICS_TOKEN"],
						"%s asks for the token Prometheus sends", host)
				}
				got = append(got, host)
			}
		}
		assert.ElementsMatch(t, hosts, got, sc.JobName)
	}
	assert.Empty(t, want, "every process is scraped")

	// The ports: the hubs serve on http.addr, the worker on worker.addr (the configuration's
	// defaults, which compose does not override).
	defaults := map[string]string{}
	for _, k := range config.Keys {
		defaults[k.Name] = k.Default
	}
	for job, key := range map[string]string{"hub": "http.addr", "worker": "worker.addr"} {
		_, port, err := net.SplitHostPort(defaults[key])
		require.NoError(t, err, key)
		assert.Equal(t, wantPort[job], port, "%s serves /metrics on %s", job, key)
		for _, host := range map[string][]string{"hub": {"hub1", "hub2"}, "worker": {"worker"}}[job] {
			assert.NotContains(t, p.Services[host].Environment, config.EnvName(key), "%s keeps the default %s", host, key)
		}
	}

	// Grafana: the provisioning directory and the dashboards directory the provider reads.
	graf := p.Services["grafana"]
	assert.Equal(t, "/etc/grafana/provisioning", mount(t, graf, "deploy/grafana/provisioning"))
	dashAt := mount(t, graf, "deploy/grafana/dashboards")
	var provider struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	b, err = os.ReadFile("grafana/provisioning/dashboards/p2p-hub.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &provider))
	require.Len(t, provider.Providers, 1)
	assert.Equal(t, "file", provider.Providers[0].Type)
	assert.Equal(t, dashAt, provider.Providers[0].Options.Path)

	var ds struct {
		Datasources []struct {
			UID, Type, URL string
			IsDefault      bool `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	b, err = os.ReadFile("grafana/provisioning/datasources/prometheus.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &ds))
	require.Len(t, ds.Datasources, 1)
	assert.Equal(t, datasourceUID, ds.Datasources[0].UID)
	assert.Equal(t, "prometheus", ds.Datasources[0].Type)
	assert.True(t, ds.Datasources[0].IsDefault)
	assert.Equal(t, "http://prometheus:9090", ds.Datasources[0].URL, "the compose service")
	assert.True(t, slices.ContainsFunc(prom.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == 9090 }))
}
