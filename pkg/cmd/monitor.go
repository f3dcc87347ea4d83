package cmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
)

// MonitorFlags are the flags of the monitor enable and use-cert apply:
// its kind, how Prometheus authenticates, its labels, annotations and
// timing. A flag not given keeps what an earlier run set.
type MonitorFlags struct {
	Monitor            string
	ScrapeAuth         string
	MonitorLabels      []string
	MonitorAnnotations []string
	Interval           string
	ScrapeTimeout      string
	// Alerts is --alerts: a PrometheusRule next to the monitor.
	Alerts bool
	// ServiceMonitor is the deprecated --service-monitor.
	ServiceMonitor string
	// ServiceMonitorLabels is --service-monitor-label, kept as an alias of --monitor-label.
	ServiceMonitorLabels []string

	serviceMonitorSet bool
}

// NewMonitorFlags has the defaults.
func NewMonitorFlags() *MonitorFlags { return &MonitorFlags{ServiceMonitor: "auto"} }

// AddFlags binds the monitor flags and the deprecated --service-monitor.
func (o *MonitorFlags) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Monitor, "monitor", "", "monitor to apply: servicemonitor, podmonitor or none (default: the kind an earlier run applied, else a ServiceMonitor where the API is served)")
	f.StringVar(&o.ScrapeAuth, "scrape-auth", "", "how Prometheus authenticates: file (its own token file and spec.secrets, the chart's shape) or secret (a reader ServiceAccount's token and the CA from Secrets in the monitor's namespace, no file paths) (default: what an earlier run set, else file; secret for a PodMonitor)")
	f.StringArrayVar(&o.MonitorLabels, "monitor-label", nil, "label KEY=VALUE for the monitor, so Prometheus selects it (repeatable; default: the labels an earlier run set)")
	f.StringArrayVar(&o.ServiceMonitorLabels, "service-monitor-label", nil, "alias of --monitor-label")
	// The old name keeps working for scripts; help shows only --monitor-label.
	_ = f.MarkHidden("service-monitor-label")
	f.StringArrayVar(&o.MonitorAnnotations, "monitor-annotation", nil, "annotation KEY=VALUE for the monitor (repeatable; default: those an earlier run set)")
	f.StringVar(&o.Interval, "interval", "", "scrape interval, a Prometheus duration such as 30s or 1m (default: what an earlier run set, else "+patches.DefaultScrapeInterval+")")
	f.StringVar(&o.ScrapeTimeout, "scrape-timeout", "", "scrape timeout, a Prometheus duration no longer than the interval (default: Prometheus's)")
	f.BoolVar(&o.Alerts, "alerts", false, "also apply a PrometheusRule next to the monitor: alerts when its scrape target is down, absent or rejects Prometheus (401/403) for 10m, and when a cert-manager certificate is not renewed in its window")
	f.Var(&serviceMonitorFlag{o: o}, "service-monitor", "apply a ServiceMonitor: auto (where the API is served), always or never")
	_ = f.MarkDeprecated("service-monitor", "use --monitor servicemonitor|podmonitor|none (auto: leave --monitor out; always: --monitor servicemonitor; never: --monitor none)")
	_ = cmd.RegisterFlagCompletionFunc("monitor", cobra.FixedCompletions([]string{string(patches.MonitorServiceMonitor), string(patches.MonitorPodMonitor), string(patches.MonitorNone)}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("scrape-auth", cobra.FixedCompletions([]string{string(patches.ScrapeAuthFile), string(patches.ScrapeAuthSecret)}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("service-monitor", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// serviceMonitorFlag is the deprecated --service-monitor: it records that
// it was given, so that only a given value is weighed against --monitor.
type serviceMonitorFlag struct{ o *MonitorFlags }

func (f *serviceMonitorFlag) String() string {
	if f.o == nil {
		return ""
	}
	return f.o.ServiceMonitor
}

func (f *serviceMonitorFlag) Set(s string) error {
	f.o.ServiceMonitor, f.o.serviceMonitorSet = s, true
	return nil
}

func (f *serviceMonitorFlag) Type() string { return "string" }

// ToOptions checks the monitor flags and turns them into the choices of
// the steps. rendering (--local) has no earlier run's interval to weigh
// --scrape-timeout against: the default interval counts.
func (o *MonitorFlags) ToOptions(rendering bool) (steps.MonitorOptions, error) {
	var m steps.MonitorOptions
	switch k := patches.MonitorKind(o.Monitor); k {
	case "":
	case patches.MonitorServiceMonitor, patches.MonitorPodMonitor, patches.MonitorNone:
		m.Kind, m.KindFlag = k, "--monitor "+o.Monitor
	default:
		return m, fmt.Errorf("invalid --monitor %q: use servicemonitor, podmonitor or none", o.Monitor)
	}
	if o.serviceMonitorSet || o.ServiceMonitor != "auto" {
		var kind patches.MonitorKind
		switch o.ServiceMonitor {
		case "auto":
		case "always":
			kind = patches.MonitorServiceMonitor
		case "never":
			kind = patches.MonitorNone
		default:
			return m, fmt.Errorf("invalid --service-monitor %q: use auto, always or never", o.ServiceMonitor)
		}
		if o.Monitor != "" && kind != m.Kind {
			return m, fmt.Errorf("--service-monitor=%s conflicts with --monitor %s: drop --service-monitor (deprecated: use --monitor)", o.ServiceMonitor, o.Monitor)
		}
		if kind != "" {
			m.Kind, m.KindFlag = kind, "--service-monitor="+o.ServiceMonitor
		}
	}
	switch a := patches.ScrapeAuth(o.ScrapeAuth); a {
	case "":
	case patches.ScrapeAuthFile, patches.ScrapeAuthSecret:
		m.Auth = a
	default:
		return m, fmt.Errorf("invalid --scrape-auth %q: use file or secret", o.ScrapeAuth)
	}
	switch {
	case m.Kind == patches.MonitorNone && m.Auth == patches.ScrapeAuthSecret:
		return m, fmt.Errorf("--scrape-auth secret sets up the monitor's credentials, but %s applies no monitor: drop one of them", m.KindFlag)
	case m.Kind == patches.MonitorPodMonitor && m.Auth == patches.ScrapeAuthFile:
		return m, fmt.Errorf("--scrape-auth file with --monitor podmonitor: a PodMonitor has no bearerTokenFile field: use --scrape-auth secret (the default for a PodMonitor)")
	case m.Kind == patches.MonitorNone && o.Alerts:
		return m, fmt.Errorf("--alerts watches the monitor's scrape target, but %s applies no monitor: drop one of them", m.KindFlag)
	}
	m.Alerts = o.Alerts
	var err error
	if m.Labels, err = parseLabels("service-monitor-label", o.ServiceMonitorLabels, nil); err != nil {
		return m, err
	}
	if m.Labels, err = parseLabels("monitor-label", o.MonitorLabels, m.Labels); err != nil {
		return m, err
	}
	if m.Annotations, err = parseAnnotations(o.MonitorAnnotations); err != nil {
		return m, err
	}
	if m.Interval, err = parseScrapeDuration("interval", o.Interval); err != nil {
		return m, err
	}
	if m.ScrapeTimeout, err = parseScrapeDuration("scrape-timeout", o.ScrapeTimeout); err != nil {
		return m, err
	}
	// Without --interval the interval is the one an earlier run set, which
	// only the cluster knows (steps.ResolveMonitor checks against it); a
	// render has none, so the default.
	if m.Interval != "" || rendering {
		if err := steps.CheckScrapeTimeout(m.Interval, m.ScrapeTimeout); err != nil {
			return m, err
		}
	}
	if m.Kind == patches.MonitorNone {
		// Flags that shape a monitor, with none applied, would be dropped
		// without a word.
		for _, f := range []struct {
			name  string
			given bool
		}{{"monitor-label", len(o.MonitorLabels) > 0}, {"service-monitor-label", len(o.ServiceMonitorLabels) > 0}, {"monitor-annotation", len(o.MonitorAnnotations) > 0},
			{"interval", o.Interval != ""}, {"scrape-timeout", o.ScrapeTimeout != ""}} {
			if f.given {
				return m, fmt.Errorf("--%s is for the monitor, but %s applies no monitor: drop one of them", f.name, m.KindFlag)
			}
		}
	}
	return m, nil
}

// scrapeJobExcludes are the rules of --scrape-config: its job replaces the
// monitor, so what shapes only a monitor, or the operator's manifests,
// would be dropped without a word.
func scrapeJobExcludes() []flagRule {
	return []flagRule{
		{kind: excludes, flag: "scrape-config", others: []string{"local-part"},
			message: "--scrape-config renders only the scrape job, no manifests: drop {other}"},
		{kind: excludes, flag: "scrape-config", others: []string{"monitor", "service-monitor", "monitor-label", "service-monitor-label", "monitor-annotation"},
			message: "--scrape-config renders a scrape job instead of a monitor, so {other} has nothing to shape: drop it"},
		{kind: excludes, flag: "scrape-config", others: []string{"mode", "port", "sidecar-image"},
			message: "--scrape-config renders a scrape job of the metrics Service, not the operator's manifests, so {other} has nothing to shape: drop it"},
		{kind: excludes, flag: "scrape-config", others: []string{"alerts"},
			message: "--alerts renders a PrometheusRule, which only prometheus-operator loads, and --scrape-config is for a Prometheus it does not run: drop one of them"},
	}
}

// parseLabels adds the KEY=VALUE pairs of --flag to labels; nil when no
// flag gave any (an earlier run's labels are kept).
func parseLabels(flag string, pairs []string, labels map[string]string) (map[string]string, error) {
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("invalid --%s %q: use KEY=VALUE", flag, pair)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --%s key %q: %s", flag, k, strings.Join(errs, "; "))
		}
		if k == patches.ManagedByLabel {
			// Our label tells our monitor from others': replaced, the next
			// run and disable would take the monitor for someone else's.
			return nil, fmt.Errorf("invalid --%s %q: kubectl-eck-metrics sets %s=%s on its monitor to tell it from others': drop it", flag, pair, patches.ManagedByLabel, patches.FieldManager)
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --%s value %q: %s", flag, v, strings.Join(errs, "; "))
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = v
	}
	return labels, nil
}

func parseAnnotations(pairs []string) (map[string]string, error) {
	var out map[string]string
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("invalid --monitor-annotation %q: use KEY=VALUE", pair)
		}
		if errs := validation.IsQualifiedName(strings.ToLower(k)); len(errs) > 0 {
			return nil, fmt.Errorf("invalid --monitor-annotation key %q: %s", k, strings.Join(errs, "; "))
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out, nil
}

// parseScrapeDuration checks a Prometheus duration (30s, 1m, 1h30m) as
// prometheus-operator's CRDs accept it.
func parseScrapeDuration(flag, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	d, err := model.ParseDuration(s)
	if err != nil || time.Duration(d) <= 0 {
		return "", fmt.Errorf("invalid --%s %q: use a positive Prometheus duration such as 30s, 1m or 1h30m", flag, s)
	}
	return s, nil
}
