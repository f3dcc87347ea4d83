package patches

import (
	"encoding/json"
	"fmt"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// ServiceMonitorGVR is the one API the ServiceMonitor step asks discovery about.
var ServiceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}

const (
	// BearerTokenFile is where Prometheus finds its own ServiceAccount token.
	BearerTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	// DefaultCAMountDir is where the Prometheus operator mounts spec.secrets.
	DefaultCAMountDir = "/etc/prometheus/secrets"
)

// ServiceMonitorTLS is how Prometheus verifies the endpoint's certificate.
type ServiceMonitorTLS struct {
	// CASecret, when set, turns verification on with that secret's ca.crt.
	CASecret   string
	CAMountDir string
}

// ServiceMonitorName is the documented name of the ServiceMonitor.
func ServiceMonitorName(name string) string { return name }

// ServiceMonitor is built from prometheus-operator's typed API, so the
// compiler checks its field names, then turned into an apply patch.
func ServiceMonitor(p Params, tls ServiceMonitorTLS) (*unstructured.Unstructured, error) {
	labels := ourLabels()
	for k, v := range p.ServiceMonitorLabels {
		labels[k] = v
	}
	tlsConfig := &monitoringv1.TLSConfig{SafeTLSConfig: monitoringv1.SafeTLSConfig{InsecureSkipVerify: ptr.To(true)}}
	if tls.CASecret != "" {
		dir := tls.CAMountDir
		if dir == "" {
			dir = DefaultCAMountDir
		}
		tlsConfig = &monitoringv1.TLSConfig{
			SafeTLSConfig: monitoringv1.SafeTLSConfig{
				InsecureSkipVerify: ptr.To(false),
				ServerName:         ptr.To(ServiceDNSName(p.Name, p.Namespace)),
			},
			CAFile: fmt.Sprintf("%s/%s/ca.crt", dir, tls.CASecret),
		}
	}
	sm := &monitoringv1.ServiceMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "ServiceMonitor"},
		ObjectMeta: metav1.ObjectMeta{Name: ServiceMonitorName(p.Name), Namespace: p.Namespace, Labels: labels},
		Spec: monitoringv1.ServiceMonitorSpec{
			NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: []string{p.Namespace}},
			Selector:          metav1.LabelSelector{MatchLabels: ServiceSelectorLabels(p)},
			Endpoints: []monitoringv1.Endpoint{{
				Port:            ServicePortName,
				Path:            "/metrics",
				Scheme:          "https",
				Interval:        "30s",
				TLSConfig:       tlsConfig,
				BearerTokenFile: BearerTokenFile,
			}},
		},
	}
	raw, err := json.Marshal(sm)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	// Non-pointer structs without omitempty marshal as {} or null; an apply
	// patch must hold only the fields we mean to own.
	pruneEmpty(obj)
	return &unstructured.Unstructured{Object: obj}, nil
}

func pruneEmpty(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
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
