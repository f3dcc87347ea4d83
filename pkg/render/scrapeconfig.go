package render

import (
	"fmt"
	"regexp"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// ScrapeConfigPrometheus is --scrape-config's one value: a job of
// Prometheus's own scrape_configs, for a Prometheus that prometheus-operator
// does not configure (no ServiceMonitor to read).
const ScrapeConfigPrometheus = "prometheus"

// ScrapeJobOptions describe the job: the operator's metrics Service and how
// Prometheus verifies it.
type ScrapeJobOptions struct {
	Namespace, Name string // the operator StatefulSet; the Service is <name>-metrics
	Interval        time.Duration
	ScrapeTimeout   time.Duration // 0: Prometheus's default
	// TLS: a CA secret turns verification on (ca_file under CAMountDir and
	// server_name), as for the ServiceMonitor; else insecure_skip_verify.
	TLS patches.ServiceMonitorTLS
}

// The job's shape. Prometheus's config package (github.com/prometheus/prometheus/config)
// is not a dependency of the plugin: it would pull Prometheus's service
// discoveries and remote-write clients (cloud SDKs) into the binary and raise
// the Kubernetes libraries shared with it. The HTTP client parts, where
// credentials and TLS live, are prometheus/common's types, the ones
// Prometheus's ScrapeConfig embeds; the rest are the few fields we emit.
// test/e2e checks the render with promtool, which parses it strictly.
type scrapeJob struct {
	JobName        string                    `yaml:"job_name"`
	ScrapeInterval model.Duration            `yaml:"scrape_interval,omitempty"`
	ScrapeTimeout  model.Duration            `yaml:"scrape_timeout,omitempty"`
	MetricsPath    string                    `yaml:"metrics_path"`
	Scheme         string                    `yaml:"scheme"`
	Authorization  *promconfig.Authorization `yaml:"authorization"`
	TLSConfig      promconfig.TLSConfig      `yaml:"tls_config"`
	KubernetesSD   []kubernetesSDConfig      `yaml:"kubernetes_sd_configs"`
	RelabelConfigs []relabelConfig           `yaml:"relabel_configs"`
}

type kubernetesSDConfig struct {
	Role       string              `yaml:"role"`
	Namespaces kubernetesNamespace `yaml:"namespaces"`
}

type kubernetesNamespace struct {
	Names []string `yaml:"names"`
}

type relabelConfig struct {
	SourceLabels []string `yaml:"source_labels,flow"`
	Regex        string   `yaml:"regex,omitempty"`
	TargetLabel  string   `yaml:"target_label,omitempty"`
	Action       string   `yaml:"action"`
}

// PrometheusScrapeJob renders a scrape_configs list holding one job that
// scrapes the metrics Service's port https as the ServiceMonitor does:
// Kubernetes service discovery on the EndpointSlices of the operator's
// namespace (Endpoints are deprecated since Kubernetes 1.33), kept to that
// Service and port, HTTPS, and Prometheus's own ServiceAccount token as the
// bearer token (the operator asks the API server whether it may get /metrics).
func PrometheusScrapeJob(o ScrapeJobOptions) ([]byte, error) {
	if o.Interval <= 0 {
		return nil, fmt.Errorf("scrape interval %s: must be positive", o.Interval)
	}
	service := patches.ServiceName(o.Name)
	tls := promconfig.TLSConfig{InsecureSkipVerify: true}
	if o.TLS.CASecret != "" {
		dir := o.TLS.CAMountDir
		if dir == "" {
			dir = patches.DefaultCAMountDir
		}
		tls = promconfig.TLSConfig{
			CAFile:     fmt.Sprintf("%s/%s/%s", dir, o.TLS.CASecret, patches.CAKey),
			ServerName: patches.ServiceDNSName(o.Name, o.Namespace),
		}
	}
	// Labels as prometheus-operator sets them from a ServiceMonitor (job is
	// the Service's name), so queries and dashboards work with either.
	label := func(source, target string) relabelConfig {
		return relabelConfig{SourceLabels: []string{source}, TargetLabel: target, Action: "replace"}
	}
	job := scrapeJob{
		// Unique in a config that scrapes several installs; the job label
		// is set below.
		JobName:        o.Namespace + "/" + service,
		ScrapeInterval: model.Duration(o.Interval),
		ScrapeTimeout:  model.Duration(o.ScrapeTimeout),
		MetricsPath:    "/metrics",
		Scheme:         "https",
		Authorization:  &promconfig.Authorization{Type: "Bearer", CredentialsFile: patches.BearerTokenFile},
		TLSConfig:      tls,
		KubernetesSD:   []kubernetesSDConfig{{Role: "endpointslice", Namespaces: kubernetesNamespace{Names: []string{o.Namespace}}}},
		RelabelConfigs: []relabelConfig{
			{
				SourceLabels: []string{"__meta_kubernetes_service_name", "__meta_kubernetes_endpointslice_port_name"},
				Regex:        regexp.QuoteMeta(service) + ";" + regexp.QuoteMeta(patches.ServicePortName),
				Action:       "keep",
			},
			label("__meta_kubernetes_namespace", "namespace"),
			label("__meta_kubernetes_service_name", "service"),
			label("__meta_kubernetes_pod_name", "pod"),
			label("__meta_kubernetes_endpointslice_port_name", "endpoint"),
			label("__meta_kubernetes_service_name", "job"),
		},
	}
	return yaml.Marshal([]scrapeJob{job})
}
