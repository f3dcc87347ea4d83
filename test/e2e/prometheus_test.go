//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

var prometheusGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}

// monitoring is a user's Prometheus: a Prometheus resource that
// prometheus-operator turns into a StatefulSet and a config Secret, and the
// pod of that StatefulSet played by a kubelet.
type monitoring struct {
	t        testing.TB
	ns       string
	name     string // the Prometheus resource
	label    string // KEY=VALUE its serviceMonitorSelector matches
	k        *kubelet
	lastConf string
	pending  bool
	reloaded time.Time
}

// prometheusSDRules are what Prometheus's kubernetes service discovery
// (role endpoints) needs.
var prometheusSDRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"services", "endpoints", "pods"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
}

// newMonitoring creates the namespace, the ServiceAccount "prometheus" with
// what a user's Prometheus has (service discovery and get on /metrics) and
// the Prometheus resource, and runs its pod.
func newMonitoring(t *testing.T) *monitoring {
	t.Helper()
	ns := "monitoring-" + rand.String(5)
	return newMonitoringIn(t, ns, "e2e", "e2e-prometheus", ns)
}

// newMonitoringIn is newMonitoring with the namespace, the Prometheus
// resource's name and the label its serviceMonitorSelector matches given.
func newMonitoringIn(t *testing.T, ns, name, labelKey, labelValue string) *monitoring {
	t.Helper()
	return newMonitoringWith(t, ns, name, labelKey, labelValue, nil)
}

// newMonitoringWith is newMonitoringIn with more fields of the Prometheus
// resource's spec.
func newMonitoringWith(t *testing.T, ns, name, labelKey, labelValue string, spec map[string]any) *monitoring {
	t.Helper()
	m := &monitoring{t: t, ns: ns, name: name, label: labelKey + "=" + labelValue}
	createNamespace(t, ns)
	m.serviceAccount(t, "prometheus", true)

	p := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus",
		"metadata": map[string]any{"name": m.name, "namespace": ns},
		"spec": map[string]any{
			"replicas":                        int64(1),
			"serviceAccountName":              "prometheus",
			"serviceMonitorSelector":          map[string]any{"matchLabels": map[string]any{labelKey: labelValue}},
			"serviceMonitorNamespaceSelector": map[string]any{},
			// PodMonitors too (enable --monitor podmonitor), by the same label.
			"podMonitorSelector":          map[string]any{"matchLabels": map[string]any{labelKey: labelValue}},
			"podMonitorNamespaceSelector": map[string]any{},
			// Short intervals keep the run short; the ServiceMonitor's own
			// interval (30s) still applies to its job.
			"scrapeInterval":     "5s",
			"evaluationInterval": "5s",
		},
	}}
	for k, v := range spec {
		p.Object["spec"].(map[string]any)[k] = v
	}
	if _, err := cluster.Dynamic.Resource(prometheusGVR).Namespace(ns).Create(cluster.Context(t), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Dynamic.Resource(prometheusGVR).Namespace(ns).Delete(context.Background(), m.name, metav1.DeleteOptions{})
	})

	k := newKubelet(t, ns, "prometheus-"+m.name)
	k.images["quay.io/prometheus/prometheus"] = binary("prometheus")
	// prometheus-config-reloader is played by the test (reload below).
	k.played["init-config-reloader"] = true
	k.played["config-reloader"] = true
	k.hook = m.reload
	// Prometheus listens on its web port on loopback (no pod network).
	k.local = func(r *podRun, c corev1.Container, argv []string) ([]string, error) {
		if c.Name != "prometheus" {
			return nil, fmt.Errorf("container %s not expected", c.Name)
		}
		port := containerPort(c, "web")
		if port == 0 {
			return nil, fmt.Errorf("prometheus has no port named web")
		}
		return setFlag(argv, "--web.listen-address", k.loopback(port)), nil
	}
	m.k = k
	k.start()
	m.waitReady(t)
	return m
}

// serviceAccount creates a ServiceAccount of Prometheus with service
// discovery rights and, with metrics, get on /metrics.
func (m *monitoring) serviceAccount(t *testing.T, name string, metrics bool) {
	t.Helper()
	c := cluster.Context(t)
	if _, err := cluster.Kube.CoreV1().ServiceAccounts(m.ns).Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rules := append([]rbacv1.PolicyRule{}, prometheusSDRules...)
	if metrics {
		rules = append(rules, rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}})
	}
	roleName := "e2e-" + m.ns + "-" + name
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: roleName}, Rules: rules}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: roleName},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: roleName},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: m.ns}}}
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Create(c, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoleBindings().Create(c, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Kube.RbacV1().ClusterRoles().Delete(context.Background(), roleName, metav1.DeleteOptions{})
		_ = cluster.Kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), roleName, metav1.DeleteOptions{})
	})
}

// patchSpec merges fields into the Prometheus resource's spec.
func (m *monitoring) patchSpec(t *testing.T, spec map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"spec": spec})
	if _, err := cluster.Dynamic.Resource(prometheusGVR).Namespace(m.ns).Patch(cluster.Context(t), m.name, types.MergePatchType, raw, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (m *monitoring) baseURL() string { return "http://" + m.k.loopback(9090) }

// reload plays prometheus-config-reloader (init and sidecar): it reads the
// gzipped config prometheus-operator wrote (the config Secret's volume),
// expands $(VAR) from the reloader's env ($(SHARD), $(POD_NAME)), writes
// the result where the reloader's args say, and asks Prometheus to reload
// at its --reload-url (the pod's port mapped to loopback).
// One rule is appended to each scrape job's relabel_configs: it rewrites a
// pod IP:port the job found to the loopback address that pod's program
// listens on (podNet); nothing else of the generated job is changed.
func (m *monitoring) reload(r *podRun, started bool) error {
	if !started {
		m.lastConf, m.pending = "", false
	}
	var reloader *corev1.Container
	for i := range r.template.Spec.Containers {
		if r.template.Spec.Containers[i].Name == "config-reloader" {
			reloader = &r.template.Spec.Containers[i]
		}
	}
	if reloader == nil {
		return fmt.Errorf("no config-reloader container in %s", r.k.set)
	}
	in, out := argValue(reloader.Args, "--config-file"), argValue(reloader.Args, "--config-envsubst-file")
	inHost, ok1 := r.hostPath(*reloader, in)
	outHost, ok2 := r.hostPath(*reloader, out)
	if !ok1 || !ok2 {
		return fmt.Errorf("config-reloader: %s or %s not on a volume", in, out)
	}
	gz, err := os.ReadFile(inHost)
	if err != nil {
		return fmt.Errorf("config-reloader: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return fmt.Errorf("config-reloader: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("config-reloader: %w", err)
	}
	env, err := r.env(*reloader)
	if err != nil {
		return err
	}
	vars := map[string]string{}
	for _, kv := range env {
		if i := strings.IndexByte(kv, '='); i > 0 {
			vars[kv[:i]] = kv[i+1:]
		}
	}
	expanded := varRef.ReplaceAllStringFunc(string(raw), func(s string) string {
		if v, ok := vars[s[2:len(s)-1]]; ok {
			return v
		}
		return s
	})
	conf, err := withRoutes(expanded, routes())
	if err != nil {
		return err
	}
	if conf != m.lastConf {
		tmp := outHost + ".tmp"
		if err := os.WriteFile(tmp, []byte(conf), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, outHost); err != nil {
			return err
		}
		m.lastConf, m.pending = conf, true
		r.k.logf("config-reloader: config written")
	}
	if started && m.pending {
		// --reload-url names localhost and the pod's port: map the port.
		u, err := url.Parse(argValue(reloader.Args, "--reload-url"))
		if err != nil || u.Port() == "" {
			return fmt.Errorf("config-reloader: --reload-url %q", argValue(reloader.Args, "--reload-url"))
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			return err
		}
		u.Host = r.k.loopback(int32(port))
		resp, err := http.Post(u.String(), "", nil)
		if err != nil {
			return fmt.Errorf("config-reloader: reload: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("config-reloader: reload: %s", resp.Status)
		}
		m.pending = false
		m.reloaded = time.Now()
		r.k.logf("config-reloader: Prometheus reloaded")
	}
	return nil
}

// withRoutes appends the loopback rewrite to every scrape job's relabel_configs.
func withRoutes(conf string, routes map[string]string) (string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(conf), &doc); err != nil {
		return "", fmt.Errorf("config-reloader: %w", err)
	}
	jobs, _ := doc["scrape_configs"].([]any)
	if len(jobs) == 0 {
		return conf, nil
	}
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, j := range jobs {
		job := j.(map[string]any)
		rules, _ := job["relabel_configs"].([]any)
		for _, podAddr := range keys {
			rules = append(rules, map[string]any{
				"source_labels": []any{"__address__"}, "regex": regexp.QuoteMeta(podAddr),
				"target_label": "__address__", "replacement": routes[podAddr], "action": "replace",
			})
		}
		job["relabel_configs"] = rules
	}
	out, err := yaml.Marshal(doc)
	return string(out), err
}

func (m *monitoring) waitReady(t *testing.T) {
	t.Helper()
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, 90*time.Second, true, func(context.Context) (bool, error) {
		resp, err := http.Get(m.baseURL() + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("Prometheus never became ready: %v\n%s\n--- prometheus-operator ---\n%s", err, m.k.logs(), promOperator.tail(30))
	}
}

// target is one of Prometheus's active targets (/api/v1/targets).
type target struct {
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Labels     map[string]string `json:"labels"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
}

func (m *monitoring) get(path string, q url.Values, out any) error {
	u := m.baseURL() + path
	if q != nil {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, out)
}

// targets are the active targets of the ServiceMonitor's scrape pools for
// the operator namespace ns.
func (m *monitoring) targets(ns string) ([]target, error) {
	return m.activeTargets(func(tg target) bool { return strings.HasPrefix(tg.ScrapePool, "serviceMonitor/"+ns+"/") })
}

// poolTargets are the active targets of one scrape pool.
func (m *monitoring) poolTargets(pool string) ([]target, error) {
	return m.activeTargets(func(tg target) bool { return tg.ScrapePool == pool })
}

// activeTargets are Prometheus's active targets that keep accepts.
func (m *monitoring) activeTargets(keep func(target) bool) ([]target, error) {
	var data struct {
		Active []target `json:"activeTargets"`
	}
	if err := m.get("/api/v1/targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	var out []target
	for _, tg := range data.Active {
		if keep(tg) {
			out = append(out, tg)
		}
	}
	return out, nil
}

// query runs an instant PromQL query and returns the vector's samples.
func (m *monitoring) query(q string) ([]sample, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []sample `json:"result"`
	}
	if err := m.get("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	return data.Result, nil
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s sample) value() string { v, _ := s.Value[1].(string); return v }

// scrapeConfig is the loaded config's scrape job of a pool (from
// /api/v1/status/config), as YAML.
func (m *monitoring) scrapeConfig(pool string) (map[string]any, error) {
	var data struct {
		YAML string `json:"yaml"`
	}
	if err := m.get("/api/v1/status/config", nil, &data); err != nil {
		return nil, err
	}
	var doc struct {
		ScrapeConfigs []map[string]any `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(data.YAML), &doc); err != nil {
		return nil, err
	}
	for _, j := range doc.ScrapeConfigs {
		if j["job_name"] == pool {
			return j, nil
		}
	}
	return nil, nil
}

func containerPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// setFlag sets --name=value in argv, replacing an existing value.
func setFlag(argv []string, name, value string) []string {
	out := []string{}
	for _, a := range argv {
		if a == name || strings.HasPrefix(a, name+"=") {
			continue
		}
		out = append(out, a)
	}
	return append(out, name+"="+value)
}

// argValue is the value of --name=value in args.
func argValue(args []string, name string) string {
	for i, a := range args {
		if strings.HasPrefix(a, name+"=") {
			return strings.TrimPrefix(a, name+"=")
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func createNamespace(t *testing.T, ns string) {
	t.Helper()
	if _, err := cluster.Kube.CoreV1().Namespaces().Create(cluster.Context(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitPod waits until Prometheus runs in a pod whose template satisfies ok
// (prometheus-operator has rolled the change out, the kubelet recreated the
// pod) and is ready.
func (m *monitoring) waitPod(t *testing.T, what string, ok func(corev1.PodTemplateSpec) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(cluster.Context(t), 500*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		m.k.mu.Lock()
		defer m.k.mu.Unlock()
		return m.k.run != nil && ok(m.k.run.template) && m.k.run.ready(), nil
	})
	if err != nil {
		t.Fatalf("no Prometheus pod with %s\n%s\n--- prometheus-operator ---\n%s", what, m.k.logs(), promOperator.tail(20))
	}
	m.waitReady(t)
}

// overview says, for failure messages, which scrape jobs Prometheus loaded
// and how many targets each discovered, kept and dropped.
func (m *monitoring) overview() string {
	var data struct {
		Active  []target `json:"activeTargets"`
		Dropped []struct {
			ScrapePool       string            `json:"scrapePool"`
			DiscoveredLabels map[string]string `json:"discoveredLabels"`
		} `json:"droppedTargets"`
	}
	if err := m.get("/api/v1/targets", url.Values{"state": {"any"}}, &data); err != nil {
		return "Prometheus targets: " + err.Error()
	}
	var cfg struct {
		YAML string `json:"yaml"`
	}
	_ = m.get("/api/v1/status/config", nil, &cfg)
	var b strings.Builder
	b.WriteString("--- Prometheus ---\n")
	for _, tg := range data.Active {
		fmt.Fprintf(&b, "active %s %s %s %s\n", tg.ScrapePool, tg.ScrapeURL, tg.Health, tg.LastError)
	}
	for _, d := range data.Dropped {
		fmt.Fprintf(&b, "dropped %s %s:%s port %s\n", d.ScrapePool, d.DiscoveredLabels["__meta_kubernetes_namespace"], d.DiscoveredLabels["__meta_kubernetes_service_name"], d.DiscoveredLabels["__meta_kubernetes_endpoint_port_name"])
	}
	for _, line := range strings.Split(cfg.YAML, "\n") {
		if strings.Contains(line, "job_name:") {
			b.WriteString("loaded " + strings.TrimSpace(line) + "\n")
		}
	}
	// What prometheus-operator generated, and its status of the resource.
	if sec, err := cluster.Kube.CoreV1().Secrets(m.ns).Get(context.Background(), "prometheus-"+m.name, metav1.GetOptions{}); err == nil {
		if zr, err := gzip.NewReader(bytes.NewReader(sec.Data["prometheus.yaml.gz"])); err == nil {
			raw, _ := io.ReadAll(zr)
			for _, line := range strings.Split(string(raw), "\n") {
				if strings.Contains(line, "job_name:") {
					b.WriteString("generated " + strings.TrimSpace(line) + "\n")
				}
			}
		}
	}
	if p, err := cluster.Dynamic.Resource(prometheusGVR).Namespace(m.ns).Get(context.Background(), m.name, metav1.GetOptions{}); err == nil {
		st, _ := json.Marshal(p.Object["status"])
		fmt.Fprintf(&b, "Prometheus status: %s\n", st)
	}
	raw, _ := os.ReadFile(promOperator.log)
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "level=warn") || strings.Contains(line, "level=error") {
			b.WriteString("prometheus-operator: " + line + "\n")
		}
	}
	return b.String()
}
