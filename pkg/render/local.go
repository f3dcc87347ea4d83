// Package render builds, without a cluster, what the plugin would apply:
// the objects and patches of enable and use-cert --local (for GitOps, through
// the same builders as pkg/steps) and --scrape-config's scrape job.
package render

import (
	"fmt"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
)

// LocalInstall describes an install that is not at hand (GitOps): the
// all-in-one manifests' shape, under the names given.
type LocalInstall struct {
	Namespace, Name, ServiceAccount string
	PodSelector                     map[string]string
	Version                         *version.Version
}

// Operator builds the StatefulSet such an install has, in memory.
func (l LocalInstall) Operator() (*operator.Operator, error) {
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: l.Name, Namespace: l.Namespace},
		Spec: appsv1.StatefulSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: l.PodSelector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l.PodSelector},
				Spec: corev1.PodSpec{
					ServiceAccountName: l.ServiceAccount,
					Containers: []corev1.Container{{
						Name:         operator.ManagerContainerName,
						Image:        "docker.elastic.co/eck/eck-operator:" + l.Version.String(),
						Args:         []string{"manager", "--config=/conf/eck.yaml"},
						VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/conf", ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: l.Name}}}}},
				},
			},
		},
	}
	return operator.FromStatefulSet(sts)
}

// Object is one object of a local render, and whether it patches an
// object of the install (ConfigMap, StatefulSet) or is new.
type Object struct {
	Object any
	Patch  bool
}

// Local builds, without a cluster, what enable (and use-cert, with
// o.Cert.Secret) would apply, and says which metrics-port it set (chosen
// as enable chooses it, from eckYAML and the version). eckYAML is the
// install's eck.yaml; nil renders only the metrics keys. record is enable's
// record of the values it replaced, from the install's ConfigMap; "" records
// them from eckYAML.
func Local(op *operator.Operator, o steps.EnableOptions, eckYAML *string, record string) ([]Object, string, error) {
	text := ""
	if eckYAML != nil {
		text = *eckYAML
	}
	// Without the install's eck.yaml there is nothing to record.
	cm, p, portNote, err := steps.BuildEnableConfig(op, o, text, record, eckYAML != nil)
	if err != nil {
		return nil, "", fmt.Errorf("-f: %w", err)
	}
	var out []Object
	if o.Cert.Issuer != nil {
		out = append(out, Object{Object: patches.Certificate(*o.Cert.Issuer)})
	}
	out = append(out, []Object{
		{Object: cm, Patch: true},
		{Object: patches.ClusterRole(p)},
		{Object: patches.ClusterRoleBinding(p)},
		{Object: patches.Service(p)},
		{Object: patches.StatefulSet(p), Patch: true},
	}...)
	if m := o.MonitorFlags; m.Kind != patches.MonitorNone {
		// No cluster to ask: the kind and auth are the flags' or the defaults.
		monitor := patches.Monitor{Kind: m.Kind, Auth: m.Auth, TLS: o.Cert.ServiceMonitorTLS, Labels: m.Labels, Annotations: m.Annotations, Interval: m.Interval, ScrapeTimeout: m.ScrapeTimeout}
		if monitor.Kind == "" {
			monitor.Kind = patches.MonitorServiceMonitor
		}
		if monitor.Auth == "" {
			monitor.Auth = patches.ScrapeAuthFile
			if monitor.Kind == patches.MonitorPodMonitor {
				monitor.Auth = patches.ScrapeAuthSecret
			}
		}
		if monitor.Auth == patches.ScrapeAuthSecret {
			out = append(out, Object{Object: patches.ReaderServiceAccount(p)}, Object{Object: patches.ReaderTokenSecret(p)},
				Object{Object: patches.ReaderClusterRole(p)}, Object{Object: patches.ReaderClusterRoleBinding(p)})
		}
		obj, err := patches.MonitorObject(p, monitor)
		if err != nil {
			return nil, "", fmt.Errorf("--monitor %s: %w", monitor.Kind, err)
		}
		out = append(out, Object{Object: obj})
		if m.Alerts {
			rule, err := patches.PrometheusRule(p, patches.Alerts{Kind: monitor.Kind, Labels: m.Labels, Certificate: o.Cert.Issuer})
			if err != nil {
				return nil, "", err
			}
			out = append(out, Object{Object: rule})
		}
	} else if m.Alerts {
		return nil, "", fmt.Errorf("--alerts watches the monitor's scrape target, which --monitor none leaves out: drop one of them")
	}
	if portNote == "" {
		portNote = fmt.Sprintf("metrics-port %d", p.MetricsPort)
	}
	return out, portNote, nil
}
