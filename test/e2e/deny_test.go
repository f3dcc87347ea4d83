//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// additionalJobsSecret holds the Prometheus resource's additionalScrapeConfigs:
// the job `enable --local --scrape-config prometheus` renders.
const additionalJobsSecret = "additional-scrape-configs"

// TestDenyFileAccess: the plugin's monitors work under a Prometheus with
// arbitraryFSAccessThroughSMs.deny, the hardened setting (and, as every
// Prometheus of these tests, a podMonitorSelector), under which the
// real prometheus-operator drops the plugin's ServiceMonitor with file auth
// (bearerTokenFile, the chart's shape) and generates jobs from its
// ServiceMonitor and PodMonitor with --scrape-auth secret, which the real
// Prometheus scrapes the real ECK operator through, with the reader's token
// and, after use-cert, verifying the certificate with the CA Secret. The
// same Prometheus also runs the scrape job `--local --scrape-config
// prometheus` renders, as a user's own prometheus.yml would hold it
// (additionalScrapeConfigs: prometheus-operator copies it into the config
// as is).
func TestDenyFileAccess(t *testing.T) {
	start := time.Now()
	op := newOperator(t, "3.5.0")
	// The reader's token Secret gets its token from kube-controller-manager.
	playTokensController(t, op.ns)
	ns := "monitoring-" + rand.String(5)
	labelKey := "e2e-prometheus"
	mon := newMonitoringWith(t, ns, "e2e", labelKey, ns, map[string]any{
		"arbitraryFSAccessThroughSMs": map[string]any{"deny": true},
		"additionalScrapeConfigs":     map[string]any{"name": additionalJobsSecret, "key": "prometheus.yaml", "optional": true},
	})
	smPool := "serviceMonitor/" + op.ns + "/elastic-operator/0"
	pmPool := "podMonitor/" + op.ns + "/elastic-operator/0"
	reader := "elastic-operator-metrics-reader-token"

	ok := t.Run("file auth dropped, rendered scrape job scrapes", func(t *testing.T) {
		// The default, the chart's shape: bearerTokenFile.
		mustPlugin(t, "enable", "-n", op.ns, "--monitor-label", mon.label)
		job := mustPlugin(t, "enable", "--local", "--operator-version", op.version, "-n", op.ns, "--scrape-config", "prometheus").stdout
		before := time.Now()
		if _, err := cluster.Kube.CoreV1().Secrets(ns).Create(cluster.Context(t), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: additionalJobsSecret},
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
		if auth := asMap(loaded["authorization"]); auth["credentials_file"] != "/var/run/secrets/kubernetes.io/serviceaccount/token" {
			t.Errorf("loaded job %s: authorization %v, want Prometheus's token file", pool, auth)
		}
		// By now prometheus-operator has generated the config with the
		// ServiceMonitor present: it dropped it, and said why.
		gen := generatedJobs(t, mon)
		if _, found := gen[smPool]; found {
			t.Errorf("prometheus-operator generated %s from a ServiceMonitor with bearerTokenFile under deny", smPool)
		}
		if _, found := gen[pool]; !found {
			t.Errorf("generated config lacks the additional job %s: %v", pool, keys(gen))
		}
		if line := operatorLogLine(op.ns+"/elastic-operator", "skipping object"); !strings.Contains(line, "bearer token file which Prometheus specification prohibits") {
			t.Errorf("prometheus-operator did not say it skipped the file-auth ServiceMonitor (log line %q)", line)
		}
		assertNoPool(t, mon, smPool)
		// status tells why, and what to run.
		rep, _ := status(t, "-n", op.ns)
		rep.expect(t, "prometheus-selection.selected", "pass", "Prometheus "+ns+"/e2e selects ServiceMonitor "+op.ns+"/elastic-operator", "")
		rep.expect(t, "prometheus-selection.file-access", "fail", "arbitraryFSAccessThroughSMs.deny: true and drops ServiceMonitor", "--scrape-auth secret")
	})
	if !ok {
		return
	}

	ok = t.Run("secret auth ServiceMonitor", func(t *testing.T) {
		before := time.Now()
		mustPlugin(t, "enable", "-n", op.ns, "--scrape-auth", "secret", "--interval", "5s")
		tg := waitPool(t, mon, smPool, "secret-auth ServiceMonitor's target up", upSince(before))
		assertTargetSeries(t, mon, tg)
		job := assertSecretCredentials(t, mon, smPool, op.ns, reader)
		if tls := asMap(job["tls_config"]); tls["insecure_skip_verify"] != true {
			t.Errorf("generated job %s: tls_config %v, want insecure_skip_verify (self-signed)", smPool, tls)
		}
	})
	if !ok {
		return
	}

	ok = t.Run("PodMonitor", func(t *testing.T) {
		before := time.Now()
		mustPlugin(t, "enable", "-n", op.ns, "--monitor", "podmonitor")
		tg := waitPool(t, mon, pmPool, "PodMonitor's target up", upSince(before))
		assertTargetSeries(t, mon, tg)
		assertSecretCredentials(t, mon, pmPool, op.ns, reader)
		// Only one monitor of ours at a time: the ServiceMonitor is gone.
		waitNoPool(t, mon, smPool)
		// status finds the Prometheus and checks the reader's account, untyped.
		rep, _ := status(t, "-n", op.ns)
		rep.expect(t, "prometheus-selection.selected", "pass", "Prometheus "+ns+"/e2e selects PodMonitor "+op.ns+"/elastic-operator", "")
		rep.expect(t, "prometheus-selection.file-access", "pass", "", "")
		rep.expect(t, "servicemonitor.credentials", "pass", "secret auth", "")
		rep.expect(t, "prometheus-access.metrics", "pass", "elastic-operator-metrics-reader (the monitor's credentials)", "")
	})
	if !ok {
		return
	}

	t.Run("PodMonitor, use-cert: verified with the CA Secret", func(t *testing.T) {
		ca := newCA(t)
		dir := t.TempDir()
		svcName := "elastic-operator-metrics." + op.ns + ".svc"
		certPEM, keyPEM, cert := ca.issue(t, svcName, svcName+".cluster.local")
		mustPlugin(t, "use-cert", "-n", op.ns, "--secret", "eck-metrics-tls",
			"--cert", writeFile(t, dir, "tls.crt", certPEM), "--key", writeFile(t, dir, "tls.key", keyPEM),
			"--ca-secret", "eck-metrics-ca", "--ca", writeFile(t, dir, "ca.crt", ca.pem))
		waitServedSerial(t, op.metricsAddr(t), cert.SerialNumber, 60*time.Second, op.k.logs)
		tg := waitPool(t, mon, pmPool, "PodMonitor's target up with verified TLS", upSince(time.Now()))
		assertTargetSeries(t, mon, tg)
		job := assertSecretCredentials(t, mon, pmPool, op.ns, reader)
		// The CA comes from the Secret, which prometheus-operator copies into
		// Prometheus's own tls-assets; nothing the monitor names is a file.
		tls := asMap(job["tls_config"])
		caFile, _ := tls["ca_file"].(string)
		if tls["insecure_skip_verify"] == true || tls["server_name"] != svcName || !strings.HasPrefix(caFile, "/etc/prometheus/certs/") || !strings.HasSuffix(caFile, "_"+op.ns+"_eck-metrics-ca_ca.crt") {
			t.Errorf("generated job %s: tls_config %v, want verification with the CA Secret's copy in tls-assets and server_name %s", pmPool, tls, svcName)
		}
	})
	t.Logf("TestDenyFileAccess took %s", time.Since(start).Round(time.Second))
}

// waitPool waits until a target of the scrape pool satisfies ok.
func waitPool(t *testing.T, mon *monitoring, pool, what string, ok func(target) bool) target {
	t.Helper()
	return pollTargets(t, mon, pool, func() ([]target, error) { return mon.poolTargets(pool) }, what, ok, func() string { return "" })
}

// waitNoPool waits until Prometheus answers that it has no target of the pool.
func waitNoPool(t *testing.T, mon *monitoring, pool string) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, scrapeTimeout, true, func(context.Context) (bool, error) {
		var tgs []target
		tgs, lastErr = mon.poolTargets(pool)
		return lastErr == nil && len(tgs) == 0, nil
	})
	if err != nil {
		t.Fatalf("Prometheus still scrapes pool %s (error %v)\n%s", pool, lastErr, mon.overview())
	}
}

// assertNoPool asserts Prometheus answers that it has no target of the pool.
func assertNoPool(t *testing.T, mon *monitoring, pool string) {
	t.Helper()
	if tgs, err := mon.poolTargets(pool); err != nil || len(tgs) > 0 {
		t.Errorf("Prometheus scrapes pool %s: %v (error %v)", pool, tgs, err)
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
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, 30*time.Second, true, func(context.Context) (bool, error) {
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
	sec, err := cluster.Kube.CoreV1().Secrets(mon.ns).Get(cluster.Context(t), "prometheus-"+mon.name, metav1.GetOptions{})
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
// of the reader Secret inline (prometheus-operator read the Secret) and
// reads no file but prometheus-operator's own copies of Secrets
// (tls-assets, /etc/prometheus/certs); it returns the job.
func assertSecretCredentials(t *testing.T, mon *monitoring, pool, ns, secret string) map[string]any {
	t.Helper()
	job, ok := generatedJobs(t, mon)[pool]
	if !ok {
		t.Fatalf("generated config lacks job %s", pool)
	}
	s, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	auth := asMap(job["authorization"])
	if same := len(s.Data["token"]) > 0 && auth["credentials"] == string(s.Data["token"]); auth["type"] != "Bearer" || !same {
		// Tokens are not printed.
		t.Errorf("generated job %s: authorization type %v, credentials are secret %s/%s's token: %v", pool, auth["type"], ns, secret, same)
	}
	for _, files := range []map[string]any{auth, asMap(job["tls_config"])} {
		for k, v := range files {
			if path, _ := v.(string); strings.HasSuffix(k, "_file") && !strings.HasPrefix(path, "/etc/prometheus/certs/") {
				t.Errorf("generated job %s reads a file: %s: %v", pool, k, v)
			}
		}
	}
	if _, found := job["bearer_token_file"]; found {
		t.Errorf("generated job %s has bearer_token_file", pool)
	}
	return job
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
