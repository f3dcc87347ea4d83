//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

var (
	serviceMonitorGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	podMonitorGVR     = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "podmonitors"}
)

// additionalJobsSecret holds the Prometheus resource's additionalScrapeConfigs:
// the job `enable --local --scrape-config prometheus` renders.
const additionalJobsSecret = "additional-scrape-configs"

// TestDenyFileAccess is issue 11's "done when": a Prometheus with
// arbitraryFSAccessThroughSMs.deny, the hardened setting, under which the
// real prometheus-operator drops a ServiceMonitor that reads files
// (bearerTokenFile, the chart's shape) and generates jobs from a
// ServiceMonitor and a PodMonitor whose credentials are Secrets, which the
// real Prometheus scrapes the real ECK operator through. The same
// Prometheus also runs the scrape job `--local --scrape-config prometheus`
// renders, as a user's own prometheus.yml would hold it (additionalScrapeConfigs:
// prometheus-operator copies it into the config as is).
func TestDenyFileAccess(t *testing.T) {
	start := time.Now()
	op := newOperator(t, "3.5.0")
	playTokensController(t, op.ns)
	ns := "monitoring-" + rand.String(5)
	labelKey := "e2e-prometheus"
	mon := newMonitoringWith(t, ns, "e2e", labelKey, ns, map[string]any{
		"arbitraryFSAccessThroughSMs": map[string]any{"deny": true},
		"podMonitorSelector":          map[string]any{"matchLabels": map[string]any{labelKey: ns}},
		"podMonitorNamespaceSelector": map[string]any{},
		"additionalScrapeConfigs":     map[string]any{"name": additionalJobsSecret, "key": "prometheus.yaml", "optional": true},
	})
	fileSM := "serviceMonitor/" + op.ns + "/elastic-operator/0"

	ok := t.Run("file auth dropped, rendered scrape job scrapes", func(t *testing.T) {
		// The chart's shape: bearerTokenFile.
		mustPlugin(t, "enable", "-n", op.ns, "--service-monitor-label", mon.label)
		job := mustPlugin(t, "enable", "--local", "--operator-version", op.version, "-n", op.ns, "--scrape-config", "prometheus").stdout
		before := time.Now()
		if _, err := cluster.kube.CoreV1().Secrets(ns).Create(ctx(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: additionalJobsSecret},
			Data: map[string][]byte{"prometheus.yaml": []byte(job)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pool := op.ns + "/elastic-operator-metrics"
		tg := waitPool(t, mon, pool, "rendered job's target up", upSince(before))
		assertTargetSeries(t, mon, tg)
		loaded, err := mon.scrapeConfig(pool)
		if err != nil || loaded == nil {
			t.Fatalf("Prometheus has not loaded job %s: %v", pool, err)
		}
		if auth, _ := loaded["authorization"].(map[string]any); auth["credentials_file"] != "/var/run/secrets/kubernetes.io/serviceaccount/token" {
			t.Errorf("loaded job %s: authorization %v, want Prometheus's token file", pool, auth)
		}
		// By now prometheus-operator has generated the config with the
		// ServiceMonitor present: it dropped it, and said why.
		gen := generatedJobs(t, mon)
		if _, found := gen[fileSM]; found {
			t.Errorf("prometheus-operator generated %s from a ServiceMonitor with bearerTokenFile under deny", fileSM)
		}
		if _, found := gen[pool]; !found {
			t.Errorf("generated config lacks the additional job %s: %v", pool, keys(gen))
		}
		if line := operatorLogLine(op.ns+"/elastic-operator", "skipping object"); !strings.Contains(line, "bearer token file which Prometheus specification prohibits") {
			t.Errorf("prometheus-operator did not say it skipped the file-auth ServiceMonitor (log line %q)", line)
		}
		assertNoPool(t, mon, fileSM)
	})
	if !ok {
		return
	}

	t.Run("secret auth ServiceMonitor", func(t *testing.T) {
		before := time.Now()
		readerCredentials(t, op.ns, "elastic-operator")
		secretServiceMonitor(t, op.ns, "elastic-operator-secret", mon.label)
		pool := "serviceMonitor/" + op.ns + "/elastic-operator-secret/0"
		tg := waitPool(t, mon, pool, "secret-auth ServiceMonitor's target up", upSince(before))
		assertTargetSeries(t, mon, tg)
		assertSecretCredentials(t, mon, pool, op.ns, "elastic-operator-metrics-reader-token")
	})

	t.Run("PodMonitor", func(t *testing.T) {
		before := time.Now()
		readerCredentials(t, op.ns, "elastic-operator")
		podMonitor(t, op.ns, "elastic-operator", mon.label)
		pool := "podMonitor/" + op.ns + "/elastic-operator/0"
		tg := waitPool(t, mon, pool, "PodMonitor's target up", upSince(before))
		assertTargetSeries(t, mon, tg)
		assertSecretCredentials(t, mon, pool, op.ns, "elastic-operator-metrics-reader-token")
	})
	t.Logf("TestDenyFileAccess took %s", time.Since(start).Round(time.Second))
}

// readerCredentials creates what --scrape-auth secret applies (issue 11's
// design): a ServiceAccount <name>-metrics-reader, its long-lived token
// Secret, and get on /metrics for it. Idempotent.
func readerCredentials(t *testing.T, ns, name string) {
	t.Helper()
	c := ctx(t)
	reader := name + "-metrics-reader"
	if _, err := cluster.kube.CoreV1().ServiceAccounts(ns).Get(c, reader, metav1.GetOptions{}); err == nil {
		return
	}
	if _, err := cluster.kube.CoreV1().ServiceAccounts(ns).Create(c, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: reader}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: reader + "-token", Annotations: map[string]string{corev1.ServiceAccountNameKey: reader}},
		Type: corev1.SecretTypeServiceAccountToken}
	if _, err := cluster.kube.CoreV1().Secrets(ns).Create(c, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + reader},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: reader, Namespace: ns}}}
	if _, err := cluster.kube.RbacV1().ClusterRoles().Create(c, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.kube.RbacV1().ClusterRoleBindings().Create(c, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.kube.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
		_ = cluster.kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
}

// secretAuth is the endpoint's authorization and TLS of --scrape-auth secret
// without a CA (self-signed: insecureSkipVerify, as the chart's).
func secretAuth(ns string) (map[string]any, map[string]any) {
	return map[string]any{"type": "Bearer", "credentials": map[string]any{"name": "elastic-operator-metrics-reader-token", "key": "token"}},
		map[string]any{"insecureSkipVerify": true}
}

// secretServiceMonitor creates a ServiceMonitor of issue 11's --scrape-auth
// secret shape, selecting the metrics Service's port https.
func secretServiceMonitor(t *testing.T, ns, name, label string) {
	t.Helper()
	auth, tls := secretAuth(ns)
	createMonitor(t, serviceMonitorGVR, "ServiceMonitor", ns, name, label, map[string]any{
		"namespaceSelector": map[string]any{"matchNames": []any{ns}},
		"selector":          map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator", "app.kubernetes.io/component": "metrics"}},
		"endpoints": []any{map[string]any{"port": "https", "path": "/metrics", "scheme": "https", "interval": "5s",
			"authorization": auth, "tlsConfig": tls}},
	})
}

// podMonitor creates a PodMonitor of issue 11's shape: the operator's pods,
// container port metrics, secret auth.
func podMonitor(t *testing.T, ns, name, label string) {
	t.Helper()
	auth, tls := secretAuth(ns)
	createMonitor(t, podMonitorGVR, "PodMonitor", ns, name, label, map[string]any{
		"namespaceSelector": map[string]any{"matchNames": []any{ns}},
		"selector":          map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator"}},
		"podMetricsEndpoints": []any{map[string]any{"port": "metrics", "path": "/metrics", "scheme": "https", "interval": "5s",
			"authorization": auth, "tlsConfig": tls}},
	})
}

func createMonitor(t *testing.T, gvr schema.GroupVersionResource, kind, ns, name, label string, spec map[string]any) {
	t.Helper()
	k, v, _ := strings.Cut(label, "=")
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{k: v}},
		"spec":     spec,
	}}
	if _, err := cluster.dynamic.Resource(gvr).Namespace(ns).Create(ctx(t), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func upSince(since time.Time) func(target) bool {
	return func(tg target) bool { return tg.Health == "up" && tg.LastScrape.After(since) }
}

// waitPool waits until a target of the scrape pool satisfies ok.
func waitPool(t *testing.T, mon *monitoring, pool, what string, ok func(target) bool) target {
	t.Helper()
	var last []target
	var found target
	err := wait.PollUntilContextTimeout(ctx(t), time.Second, scrapeTimeout, true, func(context.Context) (bool, error) {
		last = poolTargets(mon, pool)
		for _, tg := range last {
			if ok(tg) {
				found = tg
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		raw, _ := json.MarshalIndent(last, "", "  ")
		t.Fatalf("Prometheus: %s: not within %s (targets of %s: %s)\n%s\n%s--- prometheus-operator ---\n%s",
			what, scrapeTimeout, pool, raw, mon.overview(), mon.k.logs(), promOperator.tail(20))
	}
	t.Logf("Prometheus: %s: %s %s", pool, found.ScrapeURL, found.Health)
	return found
}

func poolTargets(mon *monitoring, pool string) []target {
	var data struct {
		Active []target `json:"activeTargets"`
	}
	if err := mon.get("/api/v1/targets", nil, &data); err != nil {
		return nil
	}
	var out []target
	for _, tg := range data.Active {
		if tg.ScrapePool == pool {
			out = append(out, tg)
		}
	}
	return out
}

// assertNoPool asserts Prometheus has no target of the pool.
func assertNoPool(t *testing.T, mon *monitoring, pool string) {
	t.Helper()
	if tgs := poolTargets(mon, pool); len(tgs) > 0 {
		t.Errorf("Prometheus scrapes pool %s: %v", pool, tgs)
	}
}

// assertTargetSeries asserts Prometheus stored the operator's
// controller_runtime_* series with exactly the target's labels (a label
// the target lacks must be absent: another job scrapes the same endpoint).
func assertTargetSeries(t *testing.T, mon *monitoring, tg target) {
	t.Helper()
	var matchers []string
	for k, v := range tg.Labels {
		matchers = append(matchers, fmt.Sprintf("%s=%q", k, v))
	}
	for _, l := range []string{"container", "service", "endpoint", "pod"} {
		if _, ok := tg.Labels[l]; !ok {
			matchers = append(matchers, l+`=""`)
		}
	}
	sort.Strings(matchers)
	q := fmt.Sprintf(`count by (__name__) ({__name__=~"controller_runtime_.+", %s})`, strings.Join(matchers, ", "))
	var got []sample
	err := wait.PollUntilContextTimeout(ctx(t), time.Second, 30*time.Second, true, func(context.Context) (bool, error) {
		var err error
		got, err = mon.query(q)
		return err == nil && len(got) > 0, nil
	})
	if err != nil {
		t.Fatalf("Prometheus stored no controller_runtime_* series of target %s (%s)", tg.ScrapePool, q)
	}
	t.Logf("Prometheus stored %d controller_runtime_* metrics of pool %s", len(got), tg.ScrapePool)
}

// generatedJobs are the scrape jobs of the config prometheus-operator
// generated for the Prometheus (its config Secret, before the test's loopback
// rewrite), by name.
func generatedJobs(t *testing.T, mon *monitoring) map[string]map[string]any {
	t.Helper()
	sec, err := cluster.kube.CoreV1().Secrets(mon.ns).Get(ctx(t), "prometheus-"+mon.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(sec.Data["prometheus.yaml.gz"]))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ScrapeConfigs []map[string]any `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, j := range doc.ScrapeConfigs {
		name, _ := j["job_name"].(string)
		out[name] = j
	}
	return out
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// assertSecretCredentials asserts the generated job of pool holds the token
// of the reader Secret inline (prometheus-operator read the Secret; no file
// path anywhere in its authorization or TLS settings).
func assertSecretCredentials(t *testing.T, mon *monitoring, pool, ns, secret string) {
	t.Helper()
	job, ok := generatedJobs(t, mon)[pool]
	if !ok {
		t.Fatalf("generated config lacks job %s", pool)
	}
	s, err := cluster.kube.CoreV1().Secrets(ns).Get(ctx(t), secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := job["authorization"].(map[string]any)
	if auth["type"] != "Bearer" || auth["credentials"] != string(s.Data["token"]) || len(s.Data["token"]) == 0 {
		t.Errorf("generated job %s: authorization type %v, credentials from secret %s/%s: %v", pool, auth["type"], ns, secret, auth["credentials"] == string(s.Data["token"]))
	}
	for _, files := range []map[string]any{auth, asMap(job["tls_config"])} {
		for k := range files {
			if strings.HasSuffix(k, "_file") {
				t.Errorf("generated job %s reads a file: %s", pool, k)
			}
		}
	}
	if _, found := job["bearer_token_file"]; found {
		t.Errorf("generated job %s has bearer_token_file", pool)
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

// operatorLogLine is the last line of prometheus-operator's log that names
// object and holds what.
func operatorLogLine(object, what string) string {
	raw, _ := os.ReadFile(promOperator.log)
	lines := strings.Split(string(raw), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.Contains(lines[i], what) {
			continue
		}
		for _, field := range strings.Fields(lines[i]) {
			if field == "object="+object || field == `object="`+object+`"` {
				return lines[i]
			}
		}
	}
	return ""
}
