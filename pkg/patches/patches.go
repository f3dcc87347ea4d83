// Package patches builds the objects and patches of the documented
// procedure as server-side apply configurations. Pure: no cluster access.
package patches

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
)

const (
	// FieldManager owns every field the plugin applies.
	FieldManager = "kubectl-eck-metrics"
	// ManagedByLabel marks objects the plugin created.
	ManagedByLabel = "app.kubernetes.io/managed-by"

	DefaultMetricsPort = 8081
	// ServicePort is the documented port of the metrics Service (and of the
	// kube-rbac-proxy listener in sidecar mode).
	ServicePort       = 8080
	MetricsPortName   = "metrics"
	ServicePortName   = "https"
	SidecarName       = "kube-rbac-proxy"
	DefaultSidecarImg = "quay.io/brancz/kube-rbac-proxy:v0.19.1"
)

// Params describe one operator install and the choices of the user.
type Params struct {
	Namespace      string
	Name           string // the operator StatefulSet
	ServiceAccount string
	PodSelector    map[string]string
	Mode           operator.Mode
	MetricsPort    int32
	SidecarImage   string
	// ServiceMonitorLabels are added so a Prometheus selects the ServiceMonitor.
	ServiceMonitorLabels map[string]string
	// CertSecret, when set, is the user's TLS secret the endpoint serves.
	CertSecret string
	// CertDir is where the native-mode operator reads it (metrics-cert-dir).
	CertDir string
}

// ParamsFor fills the operator's side of Params.
func ParamsFor(o *operator.Operator, mode operator.Mode, port int32, sidecarImage string, smLabels map[string]string) Params {
	return Params{
		Namespace:            o.Namespace(),
		Name:                 o.Name(),
		ServiceAccount:       o.ServiceAccount,
		PodSelector:          o.PodSelector,
		Mode:                 mode,
		MetricsPort:          port,
		SidecarImage:         sidecarImage,
		ServiceMonitorLabels: smLabels,
	}
}

// MetricsSettings are the eck.yaml keys each mode needs.
func MetricsSettings(mode operator.Mode, port int32, doc *eckconfig.Document) []eckconfig.Setting {
	p := strconv.Itoa(int(port))
	if mode == operator.ModeSidecar {
		s := []eckconfig.Setting{{Key: "metrics-port", Value: p}, {Key: "metrics-host", Value: "127.0.0.1"}}
		// The proxy's upstream is plain HTTP: an operator that also serves
		// HTTPS (2.16+ with metrics-secure) would not answer it.
		if v, ok := doc.Get("metrics-secure"); ok && v != "false" {
			s = append(s, eckconfig.Setting{Key: "metrics-secure", Value: "false"})
		}
		return s
	}
	return []eckconfig.Setting{{Key: "metrics-port", Value: p}, {Key: "metrics-host", Value: "0.0.0.0"}, {Key: "metrics-secure", Value: "true"}}
}

// PreviousSettingsAnnotation records, at the first enable, the eck.yaml
// values enable replaced (null: the key was absent), so disable can put
// them back.
const PreviousSettingsAnnotation = "eck-metrics.kubectl.io/previous-settings"

// PreviousSettings encodes the values of keys before enable changed them.
func PreviousSettings(doc *eckconfig.Document, settings []eckconfig.Setting) string {
	prev := map[string]*string{}
	for _, s := range settings {
		if v, ok := doc.Get(s.Key); ok {
			prev[s.Key] = &v
		} else {
			prev[s.Key] = nil
		}
	}
	raw, _ := json.Marshal(prev) // map keys are sorted: stable text
	return string(raw)
}

// ParsePreviousSettings decodes the annotation.
func ParsePreviousSettings(text string) (map[string]*string, error) {
	prev := map[string]*string{}
	if err := json.Unmarshal([]byte(text), &prev); err != nil {
		return nil, fmt.Errorf("annotation %s is not valid JSON: %v", PreviousSettingsAnnotation, err)
	}
	return prev, nil
}

// ConfigMap applies only the eck.yaml key (and the record of what it
// replaced), guarded by the resourceVersion that was read so a concurrent
// edit is never overwritten.
func ConfigMap(namespace, name, key, text, previous, resourceVersion string) *corev1ac.ConfigMapApplyConfiguration {
	cm := corev1ac.ConfigMap(name, namespace).WithData(map[string]string{key: text})
	if previous != "" {
		cm.WithAnnotations(map[string]string{PreviousSettingsAnnotation: previous})
	}
	if resourceVersion != "" {
		cm.WithResourceVersion(resourceVersion)
	}
	return cm
}

// RBACNames are the chart's names for the auth ClusterRole and its binding.
func RBACNames(mode operator.Mode, name string) (role, binding string) {
	if mode == operator.ModeSidecar {
		return name + "-proxy-role", name + "-proxy-rolebinding"
	}
	return name + "-metrics-auth-role", name + "-metrics-auth-rolebinding"
}

func ourLabels() map[string]string { return map[string]string{ManagedByLabel: FieldManager} }

// CreatedByUs tells by an object's labels whether the plugin created it:
// only what it created may it take over or delete.
func CreatedByUs(labels map[string]string) bool { return labels[ManagedByLabel] == FieldManager }

// ClusterRole lets the metrics endpoint authenticate and authorize scrapers.
func ClusterRole(p Params) *rbacv1ac.ClusterRoleApplyConfiguration {
	role, _ := RBACNames(p.Mode, p.Name)
	return rbacv1ac.ClusterRole(role).
		WithLabels(ourLabels()).
		WithRules(
			rbacv1ac.PolicyRule().WithAPIGroups("authentication.k8s.io").WithResources("tokenreviews").WithVerbs("create"),
			rbacv1ac.PolicyRule().WithAPIGroups("authorization.k8s.io").WithResources("subjectaccessreviews").WithVerbs("create"),
		)
}

// ClusterRoleBinding binds the role to the operator's real ServiceAccount,
// after the subjects it already binds: its name is cluster-wide, so
// operators of the same name in other namespaces share it, and the subject
// list is replaced as a whole by an apply.
func ClusterRoleBinding(p Params, existing ...rbacv1.Subject) *rbacv1ac.ClusterRoleBindingApplyConfiguration {
	role, binding := RBACNames(p.Mode, p.Name)
	return bindingOf(binding, role, p.Namespace, p.ServiceAccount, existing)
}

// ServiceName is the metrics Service's name.
func ServiceName(name string) string { return name + "-metrics" }

// ServiceDNSName is the in-cluster name of the metrics Service, which the
// serving certificate must hold and Prometheus verifies.
func ServiceDNSName(name, namespace string) string {
	return ServiceName(name) + "." + namespace + ".svc"
}

// ServiceSelectorLabels are the labels the ServiceMonitor selects the
// metrics Service by: the pod selector plus component=metrics, as documented.
func ServiceSelectorLabels(p Params) map[string]string {
	l := map[string]string{}
	for k, v := range p.PodSelector {
		l[k] = v
	}
	l["app.kubernetes.io/component"] = "metrics"
	return l
}

// ServiceLabels label the metrics Service, marked as created by the plugin.
func ServiceLabels(p Params) map[string]string {
	l := ServiceSelectorLabels(p)
	l[ManagedByLabel] = FieldManager
	return l
}

// Service exposes the secure endpoint on port https 8080 -> metrics.
func Service(p Params) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(ServiceName(p.Name), p.Namespace).
		WithLabels(ServiceLabels(p)).
		WithSpec(corev1ac.ServiceSpec().
			WithSelector(p.PodSelector).
			WithPorts(corev1ac.ServicePort().
				WithName(ServicePortName).
				WithPort(ServicePort).
				WithProtocol(corev1.ProtocolTCP).
				WithTargetPort(intstr.FromString(MetricsPortName))))
}

// StatefulSet holds only the fields the mode needs, so server-side apply
// leaves the user's containers, volumes and env alone.
func StatefulSet(p Params) *appsv1ac.StatefulSetApplyConfiguration {
	var container *corev1ac.ContainerApplyConfiguration
	if p.Mode == operator.ModeSidecar {
		container = SidecarContainer(p)
	} else {
		// The docs forget this port; the Service targets it by name.
		container = corev1ac.Container().WithName(operator.ManagerContainerName).
			WithPorts(corev1ac.ContainerPort().WithName(MetricsPortName).WithContainerPort(p.MetricsPort).WithProtocol(corev1.ProtocolTCP))
		if p.CertSecret != "" {
			container.WithVolumeMounts(corev1ac.VolumeMount().WithName(CertVolumeName).WithMountPath(p.CertDir).WithReadOnly(true))
		}
	}
	podSpec := corev1ac.PodSpec().WithContainers(container)
	if p.CertSecret != "" {
		podSpec.WithVolumes(corev1ac.Volume().WithName(CertVolumeName).
			WithSecret(corev1ac.SecretVolumeSource().WithSecretName(p.CertSecret).WithDefaultMode(0o644)))
	}
	return appsv1ac.StatefulSet(p.Name, p.Namespace).
		WithSpec(appsv1ac.StatefulSetSpec().
			WithTemplate(corev1ac.PodTemplateSpec().WithSpec(podSpec)))
}

// MetricsContainer is the container that serves the endpoint in a mode
// (its port named metrics is the Service's target).
func MetricsContainer(mode operator.Mode) string {
	if mode == operator.ModeSidecar {
		return SidecarName
	}
	return operator.ManagerContainerName
}

// PortsInUse are the ports of the operator's pod that metrics-port must not
// take in a mode, each with what uses it.
func PortsInUse(op *operator.Operator, doc *eckconfig.Document, mode operator.Mode) map[int32]string {
	used := op.PortsInUse(doc, MetricsContainer(mode), MetricsPortName)
	if mode == operator.ModeSidecar {
		used[ServicePort] = "the kube-rbac-proxy listener"
	}
	return used
}

// CertDir is where the native-mode operator reads its certificate:
// eck.yaml's metrics-cert-dir, else controller-runtime's default.
func CertDir(doc *eckconfig.Document) string {
	if doc != nil {
		if dir, ok := doc.Get("metrics-cert-dir"); ok && dir != "" {
			return dir
		}
	}
	return DefaultCertDir
}

// CertMountDir is where the certificate is mounted in a mode's metrics container.
func CertMountDir(mode operator.Mode, doc *eckconfig.Document) string {
	if mode == operator.ModeSidecar {
		return SidecarCertDir
	}
	return CertDir(doc)
}

const (
	// CertVolumeName is the documented name of the certificate volume.
	CertVolumeName = "tls-certificate"
	// DefaultCertDir is where controller-runtime's metrics server looks.
	DefaultCertDir = "/tmp/k8s-metrics-server/serving-certs"
	// SidecarCertDir is where the docs mount the certificate for kube-rbac-proxy.
	SidecarCertDir = "/tls"
)

// SidecarContainer is kube-rbac-proxy exactly as the 2.12-2.15 docs give it.
func SidecarContainer(p Params) *corev1ac.ContainerApplyConfiguration {
	args := []string{
		fmt.Sprintf("--secure-listen-address=0.0.0.0:%d", ServicePort),
		fmt.Sprintf("--upstream=http://127.0.0.1:%d", p.MetricsPort),
		"--logtostderr=true",
		"--v=0",
	}
	c := corev1ac.Container()
	if p.CertSecret != "" {
		args = append(args, "--tls-cert-file="+SidecarCertDir+"/tls.crt", "--tls-private-key-file="+SidecarCertDir+"/tls.key")
		c.WithVolumeMounts(corev1ac.VolumeMount().WithName(CertVolumeName).WithMountPath(SidecarCertDir).WithReadOnly(true))
	}
	return c.
		WithName(SidecarName).
		WithImage(p.SidecarImage).
		WithArgs(args...).
		WithPorts(corev1ac.ContainerPort().WithName(MetricsPortName).WithContainerPort(ServicePort).WithProtocol(corev1.ProtocolTCP)).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))).
		WithResources(corev1ac.ResourceRequirements().
			WithLimits(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")}).
			WithRequests(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("5m"), corev1.ResourceMemory: resource.MustParse("64Mi")}))
}
