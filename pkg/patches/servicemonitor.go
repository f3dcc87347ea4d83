package patches

import (
	"encoding/json"
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// ServiceMonitorGVR is the one API the ServiceMonitor step asks discovery about.
var ServiceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}

// PodMonitorGVR is the API of --monitor podmonitor.
var PodMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "podmonitors"}

const (
	// BearerTokenFile is where Prometheus finds its own ServiceAccount token.
	BearerTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	// DefaultCAMountDir is where the Prometheus operator mounts spec.secrets.
	DefaultCAMountDir = "/etc/prometheus/secrets"
	// DefaultScrapeInterval is the chart's interval.
	DefaultScrapeInterval = "30s"
)

// MonitorKind is --monitor.
type MonitorKind string

const (
	MonitorServiceMonitor MonitorKind = "servicemonitor"
	MonitorPodMonitor     MonitorKind = "podmonitor"
	MonitorNone           MonitorKind = "none"
)

// Kind is the API kind of the monitor.
func (k MonitorKind) Kind() string {
	if k == MonitorPodMonitor {
		return "PodMonitor"
	}
	return "ServiceMonitor"
}

// GVR is the resource of the monitor.
func (k MonitorKind) GVR() schema.GroupVersionResource {
	if k == MonitorPodMonitor {
		return PodMonitorGVR
	}
	return ServiceMonitorGVR
}

// ScrapeAuth is how Prometheus authenticates its scrapes (--scrape-auth).
type ScrapeAuth string

const (
	// ScrapeAuthFile: Prometheus's own token file and, with a CA, a caFile
	// from its spec.secrets (the chart's shape; ServiceMonitor only).
	ScrapeAuthFile ScrapeAuth = "file"
	// ScrapeAuthSecret: a reader ServiceAccount's token and the CA from
	// Secrets in the monitor's namespace; no file paths.
	ScrapeAuthSecret ScrapeAuth = "secret"
)

// CANamespace is where the CA Secret Prometheus verifies with lives under
// this scrape auth: the monitor's namespace with secret auth (the monitor
// names a Secret of its own namespace), else Prometheus's own (mounted
// through its spec.secrets for caFile).
func (a ScrapeAuth) CANamespace(monitorNamespace, prometheusNamespace string) string {
	if a == ScrapeAuthSecret {
		return monitorNamespace
	}
	return prometheusNamespace
}

// ServiceMonitorTLS is how Prometheus verifies the endpoint's certificate.
type ServiceMonitorTLS struct {
	// CASecret, when set, turns verification on with that secret's ca.crt.
	CASecret   string
	CAMountDir string
}

// Monitor is what the monitor object holds beyond the install's facts.
type Monitor struct {
	Kind        MonitorKind
	Auth        ScrapeAuth
	TLS         ServiceMonitorTLS
	Labels      map[string]string
	Annotations map[string]string
	// Interval defaults to DefaultScrapeInterval; ScrapeTimeout is left out when "".
	Interval, ScrapeTimeout string
}

// ServiceMonitorName is the documented name of the ServiceMonitor.
func ServiceMonitorName(name string) string { return name }

// MonitorName is the name of the monitor of either kind.
func MonitorName(name string) string { return name }

// ServiceMonitor is the chart's ServiceMonitor (file auth) with p's labels.
func ServiceMonitor(p Params, tls ServiceMonitorTLS) (*unstructured.Unstructured, error) {
	return MonitorObject(p, Monitor{Kind: MonitorServiceMonitor, Auth: ScrapeAuthFile, TLS: tls, Labels: p.ServiceMonitorLabels})
}

// MonitorObject builds the ServiceMonitor or PodMonitor from
// prometheus-operator's typed API, so the compiler checks its field names,
// then turns it into an apply patch.
func MonitorObject(p Params, m Monitor) (*unstructured.Unstructured, error) {
	labels := ourLabels()
	for k, v := range m.Labels {
		labels[k] = v
	}
	var annotations map[string]string
	if len(m.Annotations) > 0 {
		annotations = m.Annotations
	}
	interval := m.Interval
	if interval == "" {
		interval = DefaultScrapeInterval
	}
	meta := metav1.ObjectMeta{Name: MonitorName(p.Name), Namespace: p.Namespace, Labels: labels, Annotations: annotations}
	safeTLS := monitoringv1.SafeTLSConfig{InsecureSkipVerify: ptr.To(true)}
	if m.TLS.CASecret != "" {
		safeTLS = monitoringv1.SafeTLSConfig{InsecureSkipVerify: ptr.To(false), ServerName: ptr.To(ServiceDNSName(p.Name, p.Namespace))}
	}
	var auth *monitoringv1.SafeAuthorization
	if m.Auth == ScrapeAuthSecret {
		auth = &monitoringv1.SafeAuthorization{Type: "Bearer", Credentials: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: ReaderTokenSecretName(p.Name)}, Key: corev1.ServiceAccountTokenKey}}
		if m.TLS.CASecret != "" {
			safeTLS.CA = monitoringv1.SecretOrConfigMap{Secret: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: m.TLS.CASecret}, Key: CAKey}}
		}
	}
	var obj any
	switch {
	case m.Kind == MonitorPodMonitor:
		if m.Auth != ScrapeAuthSecret {
			return nil, fmt.Errorf("a PodMonitor has no bearerTokenFile: it needs --scrape-auth secret")
		}
		obj = &monitoringv1.PodMonitor{
			TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PodMonitor"},
			ObjectMeta: meta,
			Spec: monitoringv1.PodMonitorSpec{
				NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: []string{p.Namespace}},
				Selector:          metav1.LabelSelector{MatchLabels: p.PodSelector},
				PodMetricsEndpoints: []monitoringv1.PodMetricsEndpoint{{
					Port:          ptr.To(MetricsPortName),
					Path:          "/metrics",
					Scheme:        "https",
					Interval:      monitoringv1.Duration(interval),
					ScrapeTimeout: monitoringv1.Duration(m.ScrapeTimeout),
					TLSConfig:     &safeTLS,
					Authorization: auth,
				}},
			},
		}
	default:
		tlsConfig := &monitoringv1.TLSConfig{SafeTLSConfig: safeTLS}
		tokenFile := ""
		if m.Auth != ScrapeAuthSecret {
			tokenFile = BearerTokenFile
			if m.TLS.CASecret != "" {
				dir := m.TLS.CAMountDir
				if dir == "" {
					dir = DefaultCAMountDir
				}
				tlsConfig.CAFile = CAFile(dir, m.TLS.CASecret)
			}
		}
		endpoint := monitoringv1.Endpoint{
			Port:          ServicePortName,
			Path:          "/metrics",
			Scheme:        "https",
			Interval:      monitoringv1.Duration(interval),
			ScrapeTimeout: monitoringv1.Duration(m.ScrapeTimeout),
			TLSConfig:     tlsConfig,
			Authorization: auth,
			//lint:ignore SA1019 file auth is the chart's shape on purpose; --scrape-auth secret uses authorization
			BearerTokenFile: tokenFile,
		}
		obj = &monitoringv1.ServiceMonitor{
			TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "ServiceMonitor"},
			ObjectMeta: meta,
			Spec: monitoringv1.ServiceMonitorSpec{
				NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: []string{p.Namespace}},
				Selector:          metav1.LabelSelector{MatchLabels: ServiceSelectorLabels(p)},
				Endpoints:         []monitoringv1.Endpoint{endpoint},
			},
		}
	}
	return applyObject(obj, meta)
}

// applyObject is obj as an apply patch: through JSON, without the empty
// fields marshalling adds (non-pointer structs without omitempty marshal
// as {} or null; an apply patch must hold only the fields we mean to
// own), but with meta's labels and annotations as given (an empty value is
// the user's, not marshalling's).
func applyObject(obj any, meta metav1.ObjectMeta) (*unstructured.Unstructured, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	pruneEmpty(out)
	if len(meta.Labels) > 0 {
		if err := unstructured.SetNestedStringMap(out, meta.Labels, "metadata", "labels"); err != nil {
			return nil, err
		}
	}
	if len(meta.Annotations) > 0 {
		if err := unstructured.SetNestedStringMap(out, meta.Annotations, "metadata", "annotations"); err != nil {
			return nil, err
		}
	}
	return &unstructured.Unstructured{Object: out}, nil
}

func pruneEmpty(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case string:
			// The deprecated bearerTokenSecret of a PodMonitor is a struct
			// whose key marshals as "".
			if t == "" {
				delete(m, k)
			}
		case map[string]any:
			pruneEmpty(t)
			if len(t) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range t {
				if im, ok := item.(map[string]any); ok {
					pruneEmpty(im)
				}
			}
		}
	}
}

// CAFile is where Prometheus reads the ca.crt of secret, mounted under dir
// (its spec.secrets are mounted at <dir>/<secret>).
func CAFile(dir, secret string) string { return dir + "/" + secret + "/" + CAKey }

// ParseCAFile reads back the CA secret and mount dir of a caFile CAFile
// wrote; ok is false for any other caFile.
func ParseCAFile(caFile string) (tls ServiceMonitorTLS, ok bool) {
	rest, found := strings.CutSuffix(caFile, "/"+CAKey)
	if !found {
		return ServiceMonitorTLS{}, false
	}
	dir, secret := "", rest
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		dir, secret = rest[:i], rest[i+1:]
	}
	if secret == "" || secret == "." {
		return ServiceMonitorTLS{}, false
	}
	return ServiceMonitorTLS{CASecret: secret, CAMountDir: dir}, true
}
