package patches

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenDir = "../../testdata/golden/patches"

// docsNativeEckYAML is the eck.yaml of the ConfigMap on the ECK 2.16+ docs page.
var docsNativeEckYAML = readDocsEckYAML()

// readDocsEckYAML reads the file shared by the tests of eckconfig and patches.
func readDocsEckYAML() string {
	raw, err := os.ReadFile("../../testdata/docs/eck-native.yaml")
	if err != nil {
		panic(err)
	}
	return string(raw)
}

// params is the all-in-one install of the docs.
func params(mode operator.Mode) Params {
	return Params{
		Namespace:      "elastic-system",
		Name:           "elastic-operator",
		ServiceAccount: "elastic-operator",
		PodSelector:    map[string]string{"control-plane": "elastic-operator"},
		Mode:           mode,
		MetricsPort:    DefaultMetricsPort,
		SidecarImage:   DefaultSidecarImg,
	}
}

func toYAML(t *testing.T, obj any) []byte {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	out, err := yaml.JSONToYAML(raw)
	if err != nil {
		t.Fatalf("JSONToYAML: %v", err)
	}
	return out
}

func TestGolden(t *testing.T) {
	native, sidecar := params(operator.ModeNative), params(operator.ModeSidecar)
	sm := func(p Params, tls ServiceMonitorTLS) func(t *testing.T) any {
		return func(t *testing.T) any {
			u, err := ServiceMonitor(p, tls)
			if err != nil {
				t.Fatal(err)
			}
			return u.Object
		}
	}
	monitor := func(p Params, m Monitor) func(t *testing.T) any {
		return func(t *testing.T) any {
			u, err := MonitorObject(p, m)
			if err != nil {
				t.Fatal(err)
			}
			return u.Object
		}
	}
	rule := func(p Params, a Alerts) func(t *testing.T) any {
		return func(t *testing.T) any {
			u, err := PrometheusRule(p, a)
			if err != nil {
				t.Fatal(err)
			}
			return u.Object
		}
	}
	tests := []struct {
		file  string
		build func(t *testing.T) any
	}{
		{"prometheusrule-servicemonitor.yaml", rule(native, Alerts{Kind: MonitorServiceMonitor, Labels: map[string]string{"release": "prometheus"}})},
		{"prometheusrule-podmonitor-issuer.yaml", rule(native, Alerts{Kind: MonitorPodMonitor,
			Certificate: &CertificateParams{Namespace: native.Namespace, Name: native.Name, Issuer: "ca-issuer", IssuerKind: "ClusterIssuer", RenewBefore: 240 * time.Hour}})},
		{"servicemonitor-secret.yaml", monitor(native, Monitor{Kind: MonitorServiceMonitor, Auth: ScrapeAuthSecret})},
		{"servicemonitor-secret-ca.yaml", monitor(native, Monitor{Kind: MonitorServiceMonitor, Auth: ScrapeAuthSecret, TLS: ServiceMonitorTLS{CASecret: "eck-metrics-ca"},
			Labels: map[string]string{"release": "prometheus"}, Annotations: map[string]string{"team": "platform"}, Interval: "1m", ScrapeTimeout: "10s"})},
		{"podmonitor-secret.yaml", monitor(native, Monitor{Kind: MonitorPodMonitor, Auth: ScrapeAuthSecret})},
		{"podmonitor-secret-ca.yaml", monitor(sidecar, Monitor{Kind: MonitorPodMonitor, Auth: ScrapeAuthSecret, TLS: ServiceMonitorTLS{CASecret: "eck-metrics-ca"},
			Labels: map[string]string{"release": "prometheus"}, Interval: "15s", ScrapeTimeout: "5s"})},
		{"reader-serviceaccount.yaml", func(*testing.T) any { return ReaderServiceAccount(native) }},
		{"reader-token-secret.yaml", func(*testing.T) any { return ReaderTokenSecret(native) }},
		{"reader-clusterrole.yaml", func(*testing.T) any { return ReaderClusterRole(native) }},
		{"reader-clusterrolebinding.yaml", func(*testing.T) any { return ReaderClusterRoleBinding(native) }},
		{"clusterrole-native.yaml", func(*testing.T) any { return ClusterRole(native) }},
		{"clusterrolebinding-native.yaml", func(*testing.T) any { return ClusterRoleBinding(native) }},
		{"clusterrole-sidecar.yaml", func(*testing.T) any { return ClusterRole(sidecar) }},
		{"clusterrolebinding-sidecar.yaml", func(*testing.T) any { return ClusterRoleBinding(sidecar) }},
		{"service.yaml", func(*testing.T) any { return Service(native) }},
		{"statefulset-native.yaml", func(*testing.T) any { return StatefulSet(native) }},
		{"statefulset-sidecar.yaml", func(*testing.T) any { return StatefulSet(sidecar) }},
		{"servicemonitor-insecure.yaml", sm(native, ServiceMonitorTLS{})},
		{"servicemonitor-ca.yaml", sm(native, ServiceMonitorTLS{CASecret: "eck-metrics-ca"})},
		{"networkpolicy.yaml", func(*testing.T) any { return NetworkPolicy(native, []string{"monitoring"}) }},
		{"networkpolicy-two-namespaces.yaml", func(*testing.T) any { return NetworkPolicy(native, []string{"team-b", "monitoring", "team-b"}) }},
		{"configmap.yaml", func(*testing.T) any {
			return ConfigMap("elastic-system", "elastic-operator", "eck.yaml", docsNativeEckYAML, `{"metrics-host":null,"metrics-port":"0","metrics-secure":"false"}`, "12345")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			checkGolden(t, tt.file, toYAML(t, tt.build(t)))
		})
	}
}

// checkGolden compares got with the golden file of that name (written
// first with -update).
func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, file)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/patches/ -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update if intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestRBACNames(t *testing.T) {
	tests := []struct {
		mode             operator.Mode
		name             string
		wantRole, wantRB string
	}{
		{operator.ModeNative, "elastic-operator", "elastic-operator-metrics-auth-role", "elastic-operator-metrics-auth-rolebinding"},
		{operator.ModeSidecar, "elastic-operator", "elastic-operator-proxy-role", "elastic-operator-proxy-rolebinding"},
		{operator.ModeNative, "my-eck", "my-eck-metrics-auth-role", "my-eck-metrics-auth-rolebinding"},
		{operator.ModeSidecar, "my-eck", "my-eck-proxy-role", "my-eck-proxy-rolebinding"},
	}
	for _, tt := range tests {
		role, rb := RBACNames(tt.mode, tt.name)
		if role != tt.wantRole || rb != tt.wantRB {
			t.Errorf("RBACNames(%s, %s) = %s, %s; want %s, %s", tt.mode, tt.name, role, rb, tt.wantRole, tt.wantRB)
		}
	}
	// The builders use them, and the binding points at the role.
	for _, mode := range []operator.Mode{operator.ModeNative, operator.ModeSidecar} {
		p := params(mode)
		p.Name, p.Namespace, p.ServiceAccount = "my-eck", "ops", "eck-sa"
		role, rb := RBACNames(mode, p.Name)
		cr, crb := ClusterRole(p), ClusterRoleBinding(p)
		if *cr.Name != role || *crb.Name != rb || *crb.RoleRef.Name != role || *crb.RoleRef.Kind != "ClusterRole" {
			t.Errorf("%s: role %s binding %s -> %s", mode, *cr.Name, *crb.Name, *crb.RoleRef.Name)
		}
		if len(crb.Subjects) != 1 || *crb.Subjects[0].Kind != "ServiceAccount" || *crb.Subjects[0].Name != "eck-sa" || *crb.Subjects[0].Namespace != "ops" {
			t.Errorf("%s: subjects %s", mode, toYAML(t, crb.Subjects))
		}
	}
}

func mustParse(t *testing.T, text string) *eckconfig.Document {
	t.Helper()
	d, err := eckconfig.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMetricsSettings(t *testing.T) {
	s := func(kv ...string) []eckconfig.Setting {
		var out []eckconfig.Setting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, eckconfig.Setting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name string
		mode operator.Mode
		port int32
		eck  string
		want []eckconfig.Setting
	}{
		{"native", operator.ModeNative, 8081, "metrics-port: 0\n",
			s("metrics-port", "8081", "metrics-host", "0.0.0.0", "metrics-secure", "true")},
		{"native, other port, metrics-secure false already", operator.ModeNative, 9090, "metrics-secure: false\n",
			s("metrics-port", "9090", "metrics-host", "0.0.0.0", "metrics-secure", "true")},
		{"sidecar, no metrics-secure", operator.ModeSidecar, 8081, "metrics-port: 0\n",
			s("metrics-port", "8081", "metrics-host", "127.0.0.1")},
		{"sidecar, metrics-secure false", operator.ModeSidecar, 8081, "metrics-secure: false\n",
			s("metrics-port", "8081", "metrics-host", "127.0.0.1")},
		{"sidecar, metrics-secure true is turned off", operator.ModeSidecar, 8081, "metrics-secure: true\n",
			s("metrics-port", "8081", "metrics-host", "127.0.0.1", "metrics-secure", "false")},
		{"sidecar, empty file", operator.ModeSidecar, 7000, "",
			s("metrics-port", "7000", "metrics-host", "127.0.0.1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MetricsSettings(tt.mode, tt.port, mustParse(t, tt.eck))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MetricsSettings = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMetricsSettingsProduceTheDocsConfigMaps(t *testing.T) {
	// Applied to the native page's eck.yaml, native settings change nothing
	// and sidecar settings give the sidecar page's lines plus metrics-secure false.
	d := mustParse(t, docsNativeEckYAML)
	changes, err := d.Apply(MetricsSettings(operator.ModeNative, DefaultMetricsPort, d))
	if err != nil || len(changes) != 0 || d.String() != docsNativeEckYAML {
		t.Errorf("native on the native docs page: changes %q err %v\n%s", changes, err, d)
	}
	d = mustParse(t, docsNativeEckYAML)
	changes, err = d.Apply(MetricsSettings(operator.ModeSidecar, DefaultMetricsPort, d))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(docsNativeEckYAML, "metrics-host: 0.0.0.0\nmetrics-secure: true\n", "metrics-host: 127.0.0.1\nmetrics-secure: false\n", 1)
	if d.String() != want {
		t.Errorf("sidecar on the native docs page:\n%s\nwant\n%s", d, want)
	}
	if wantChanges := []string{"metrics-host: 0.0.0.0 -> 127.0.0.1", "metrics-secure: true -> false"}; !reflect.DeepEqual(changes, wantChanges) {
		t.Errorf("changes %q, want %q", changes, wantChanges)
	}
}

func TestServiceMonitorLabels(t *testing.T) {
	p := params(operator.ModeNative)
	p.ServiceMonitorLabels = map[string]string{"release": "kube-prometheus-stack", "team": "platform"}
	u, err := ServiceMonitor(p, ServiceMonitorTLS{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"release":                      "kube-prometheus-stack",
		"team":                         "platform",
		"app.kubernetes.io/managed-by": "kubectl-eck-metrics",
	}
	if got := u.GetLabels(); !reflect.DeepEqual(got, want) {
		t.Errorf("labels = %v, want %v", got, want)
	}
	if len(p.ServiceMonitorLabels) != 2 {
		t.Errorf("the caller's labels were changed: %v", p.ServiceMonitorLabels)
	}
	// The selector is the documented pair of Service labels, not the
	// ServiceMonitor's own labels.
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	wantSel := map[string]string{"control-plane": "elastic-operator", "app.kubernetes.io/component": "metrics"}
	if !reflect.DeepEqual(sel, wantSel) {
		t.Errorf("selector %v, want %v", sel, wantSel)
	}
	for k, v := range sel {
		if ServiceLabels(p)[k] != v {
			t.Errorf("selector label %s=%s is not on the Service (labels %v)", k, v, ServiceLabels(p))
		}
	}
	if _, ok := sel["release"]; ok {
		t.Errorf("ServiceMonitor labels leaked into the Service selector: %v", sel)
	}
}

// findEmpty lists the paths of null values and empty maps or lists.
func findEmpty(path string, v any) []string {
	switch t := v.(type) {
	case nil:
		return []string{path + " is null"}
	case map[string]any:
		if len(t) == 0 {
			return []string{path + " is {}"}
		}
		var out []string
		for k, e := range t {
			out = append(out, findEmpty(path+"."+k, e)...)
		}
		return out
	case []any:
		if len(t) == 0 {
			return []string{path + " is []"}
		}
		var out []string
		for i, e := range t {
			out = append(out, findEmpty(path+"["+strconv.Itoa(i)+"]", e)...)
		}
		return out
	case string:
		if t == "" {
			return []string{path + ` is ""`}
		}
	}
	return nil
}

func TestServiceMonitorHasNoEmptyFields(t *testing.T) {
	for name, tls := range map[string]ServiceMonitorTLS{
		"insecure":    {},
		"ca":          {CASecret: "eck-metrics-ca"},
		"ca+mountdir": {CASecret: "eck-metrics-ca", CAMountDir: "/etc/ca"},
	} {
		t.Run(name, func(t *testing.T) {
			u, err := ServiceMonitor(params(operator.ModeNative), tls)
			if err != nil {
				t.Fatal(err)
			}
			if empty := findEmpty("", u.Object); len(empty) != 0 {
				t.Errorf("apply patch holds empty fields it would then own: %v\n%s", empty, toYAML(t, u.Object))
			}
			// Fields the typed struct always marshals must be gone.
			for _, path := range [][]string{{"metadata", "creationTimestamp"}, {"status"}} {
				if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, path...); found {
					t.Errorf("%v is in the patch", path)
				}
			}
		})
	}
}

func TestServiceMonitorEndpoint(t *testing.T) {
	get := func(t *testing.T, tls ServiceMonitorTLS, p Params) map[string]any {
		t.Helper()
		u, err := ServiceMonitor(p, tls)
		if err != nil {
			t.Fatal(err)
		}
		if u.GetAPIVersion() != "monitoring.coreos.com/v1" || u.GetKind() != "ServiceMonitor" {
			t.Errorf("apiVersion/kind = %s %s", u.GetAPIVersion(), u.GetKind())
		}
		if u.GetName() != "elastic-operator" || u.GetNamespace() != "elastic-system" {
			t.Errorf("name %s/%s", u.GetNamespace(), u.GetName())
		}
		eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "endpoints")
		if len(eps) != 1 {
			t.Fatalf("endpoints = %v", eps)
		}
		ep := eps[0].(map[string]any)
		for k, want := range map[string]string{
			"port": "https", "path": "/metrics", "scheme": "https", "interval": "30s",
			"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token",
		} {
			if ep[k] != want {
				t.Errorf("endpoint %s = %v, want %s", k, ep[k], want)
			}
		}
		return ep["tlsConfig"].(map[string]any)
	}
	p := params(operator.ModeNative)
	if tlsConfig := get(t, ServiceMonitorTLS{}, p); !reflect.DeepEqual(tlsConfig, map[string]any{"insecureSkipVerify": true}) {
		t.Errorf("insecure tlsConfig = %v", tlsConfig)
	}
	want := map[string]any{
		"insecureSkipVerify": false,
		"caFile":             "/etc/prometheus/secrets/eck-metrics-ca/ca.crt",
		"serverName":         "elastic-operator-metrics.elastic-system.svc",
	}
	if tlsConfig := get(t, ServiceMonitorTLS{CASecret: "eck-metrics-ca"}, p); !reflect.DeepEqual(tlsConfig, want) {
		t.Errorf("CA tlsConfig = %v, want %v", tlsConfig, want)
	}
	want["caFile"] = "/mnt/ca/eck-metrics-ca/ca.crt"
	if tlsConfig := get(t, ServiceMonitorTLS{CASecret: "eck-metrics-ca", CAMountDir: "/mnt/ca"}, p); !reflect.DeepEqual(tlsConfig, want) {
		t.Errorf("CA tlsConfig with mount dir = %v, want %v", tlsConfig, want)
	}
}

func TestServiceMonitorOtherNamespace(t *testing.T) {
	p := params(operator.ModeNative)
	p.Namespace, p.Name = "ops", "eck"
	u, err := ServiceMonitor(p, ServiceMonitorTLS{CASecret: "ca"})
	if err != nil {
		t.Fatal(err)
	}
	ns, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "namespaceSelector", "matchNames")
	if !reflect.DeepEqual(ns, []string{"ops"}) || u.GetNamespace() != "ops" || u.GetName() != "eck" {
		t.Errorf("namespace %s name %s matchNames %v", u.GetNamespace(), u.GetName(), ns)
	}
	eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "endpoints")
	if sn, _, _ := unstructured.NestedString(eps[0].(map[string]any), "tlsConfig", "serverName"); sn != "eck-metrics.ops.svc" {
		t.Errorf("serverName = %q, want eck-metrics.ops.svc", sn)
	}
}

func TestServiceSelectsThePodsOfHelmInstalls(t *testing.T) {
	p := params(operator.ModeNative)
	p.PodSelector = map[string]string{"app.kubernetes.io/name": "elastic-operator", "app.kubernetes.io/instance": "eck"}
	svc := Service(p)
	if !reflect.DeepEqual(svc.Spec.Selector, p.PodSelector) {
		t.Errorf("selector %v, want %v", svc.Spec.Selector, p.PodSelector)
	}
	wantLabels := map[string]string{
		"app.kubernetes.io/name":       "elastic-operator",
		"app.kubernetes.io/instance":   "eck",
		"app.kubernetes.io/component":  "metrics",
		"app.kubernetes.io/managed-by": "kubectl-eck-metrics",
	}
	if !reflect.DeepEqual(svc.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", svc.Labels, wantLabels)
	}
	if len(p.PodSelector) != 2 {
		t.Errorf("ServiceLabels changed the pod selector: %v", p.PodSelector)
	}
	if *svc.Name != "elastic-operator-metrics" {
		t.Errorf("name %s", *svc.Name)
	}
}

func TestStatefulSetPatchesOnlyWhatTheModeNeeds(t *testing.T) {
	for _, mode := range []operator.Mode{operator.ModeNative, operator.ModeSidecar} {
		p := params(mode)
		p.MetricsPort = 9090
		p.SidecarImage = "registry.k8s.io/kubebuilder/kube-rbac-proxy:v0.16.0"
		sts := StatefulSet(p)
		if *sts.Name != "elastic-operator" || *sts.Namespace != "elastic-system" {
			t.Errorf("%s: name %s/%s", mode, *sts.Namespace, *sts.Name)
		}
		ps := sts.Spec.Template.Spec
		if len(ps.Containers) != 1 || len(ps.Volumes) != 0 || ps.ServiceAccountName != nil || sts.Spec.Selector != nil || sts.Spec.Replicas != nil {
			t.Fatalf("%s: patch holds more than one container: %s", mode, toYAML(t, sts))
		}
		c := ps.Containers[0]
		if len(c.Ports) != 1 || *c.Ports[0].Name != MetricsPortName {
			t.Fatalf("%s: ports %s", mode, toYAML(t, c.Ports))
		}
		switch mode {
		case operator.ModeNative:
			if *c.Name != "manager" || c.Image != nil || len(c.Args) != 0 || *c.Ports[0].ContainerPort != 9090 {
				t.Errorf("native container: %s", toYAML(t, c))
			}
		case operator.ModeSidecar:
			wantArgs := []string{"--secure-listen-address=0.0.0.0:8080", "--upstream=http://127.0.0.1:9090", "--logtostderr=true", "--v=0"}
			if *c.Name != "kube-rbac-proxy" || *c.Image != p.SidecarImage || !reflect.DeepEqual(c.Args, wantArgs) || *c.Ports[0].ContainerPort != 8080 {
				t.Errorf("sidecar container: %s", toYAML(t, c))
			}
		}
	}
}

func TestConfigMap(t *testing.T) {
	cm := ConfigMap("ops", "eck-conf", "operator.yaml", "metrics-port: 8081\n", "", "")
	if cm.Annotations != nil {
		t.Errorf("annotations %v without a record of previous settings", cm.Annotations)
	}
	if cm.ResourceVersion != nil {
		t.Errorf("resourceVersion %q set without one", *cm.ResourceVersion)
	}
	if *cm.Name != "eck-conf" || *cm.Namespace != "ops" || !reflect.DeepEqual(cm.Data, map[string]string{"operator.yaml": "metrics-port: 8081\n"}) {
		t.Errorf("configmap %s", toYAML(t, cm))
	}
	if cm.Labels != nil {
		t.Errorf("the ConfigMap patch would take over labels: %v", cm.Labels)
	}
	cm = ConfigMap("ops", "eck-conf", "operator.yaml", "x: 1", `{"metrics-port":null}`, "42")
	if cm.Annotations[PreviousSettingsAnnotation] != `{"metrics-port":null}` {
		t.Errorf("annotations %v", cm.Annotations)
	}
	if cm.ResourceVersion == nil || *cm.ResourceVersion != "42" {
		t.Errorf("resourceVersion = %v, want 42", cm.ResourceVersion)
	}
}

func TestParamsFor(t *testing.T) {
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "eck", Namespace: "ops"}}
	sts.Spec.Template.Spec.Containers = []corev1.Container{{Name: "manager"}}
	o := &operator.Operator{StatefulSet: sts, ServiceAccount: "eck-sa", PodSelector: map[string]string{"a": "b"}}
	labels := map[string]string{"release": "prom"}
	got := ParamsFor(o, operator.ModeSidecar, 9090, "img:1", labels)
	want := Params{
		Namespace: "ops", Name: "eck", ServiceAccount: "eck-sa", PodSelector: map[string]string{"a": "b"},
		Mode: operator.ModeSidecar, MetricsPort: 9090, SidecarImage: "img:1", ServiceMonitorLabels: labels,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParamsFor = %+v, want %+v", got, want)
	}
}

func TestPreviousSettingsRoundTrip(t *testing.T) {
	doc, err := eckconfig.Parse("metrics-port: 0\nmetrics-secure: false\nlog-verbosity: 0\n")
	if err != nil {
		t.Fatal(err)
	}
	text := PreviousSettings(doc, MetricsSettings(operator.ModeNative, 8081, doc))
	if text != `{"metrics-host":null,"metrics-port":"0","metrics-secure":"false"}` {
		t.Errorf("PreviousSettings = %s", text)
	}
	prev, err := ParsePreviousSettings(text)
	if err != nil || prev["metrics-host"] != nil || *prev["metrics-port"] != "0" || *prev["metrics-secure"] != "false" {
		t.Errorf("ParsePreviousSettings = %v, %v", prev, err)
	}
	if _, err := ParsePreviousSettings("{not json"); err == nil || !strings.Contains(err.Error(), PreviousSettingsAnnotation) {
		t.Errorf("err = %v", err)
	}
}

func TestClusterRoleBindingKeepsOtherSubjects(t *testing.T) {
	p := Params{Namespace: "b", Name: "elastic-operator", ServiceAccount: "elastic-operator", Mode: operator.ModeNative}
	names := func(existing ...rbacv1.Subject) string {
		var out []string
		for _, s := range ClusterRoleBinding(p, existing...).Subjects {
			out = append(out, *s.Namespace+"/"+*s.Name)
		}
		return strings.Join(out, ",")
	}
	a := rbacv1.Subject{Kind: "ServiceAccount", Namespace: "a", Name: "elastic-operator"}
	b := rbacv1.Subject{Kind: "ServiceAccount", Namespace: "b", Name: "elastic-operator"}
	for _, tc := range []struct {
		existing []rbacv1.Subject
		want     string
	}{
		{nil, "b/elastic-operator"},
		{[]rbacv1.Subject{a}, "a/elastic-operator,b/elastic-operator"},
		// Already bound: the order stays, so a rerun is a no-op.
		{[]rbacv1.Subject{b, a}, "b/elastic-operator,a/elastic-operator"},
		{[]rbacv1.Subject{a, b}, "a/elastic-operator,b/elastic-operator"},
	} {
		if got := names(tc.existing...); got != tc.want {
			t.Errorf("existing %v: subjects %s, want %s", tc.existing, got, tc.want)
		}
	}
}

// A PodMonitor cannot read Prometheus's token file: the builder refuses it.
func TestPodMonitorNeedsSecretAuth(t *testing.T) {
	if _, err := MonitorObject(params(operator.ModeNative), Monitor{Kind: MonitorPodMonitor, Auth: ScrapeAuthFile}); err == nil {
		t.Error("a PodMonitor with file auth was built")
	}
}

// Secret auth names no file anywhere, with or without a CA.
func TestSecretAuthHasNoFilePaths(t *testing.T) {
	for _, kind := range []MonitorKind{MonitorServiceMonitor, MonitorPodMonitor} {
		for _, ca := range []string{"", "ca"} {
			u, err := MonitorObject(params(operator.ModeNative), Monitor{Kind: kind, Auth: ScrapeAuthSecret, TLS: ServiceMonitorTLS{CASecret: ca}})
			if err != nil {
				t.Fatal(err)
			}
			text := string(toYAML(t, u.Object))
			for _, field := range []string{"File", "/etc/", "/var/"} {
				if strings.Contains(text, field) {
					t.Errorf("%s with CA %q holds %q:\n%s", kind, ca, field, text)
				}
			}
			if !strings.Contains(text, "name: elastic-operator-metrics-reader-token") {
				t.Errorf("%s names no token Secret:\n%s", kind, text)
			}
		}
	}
}
