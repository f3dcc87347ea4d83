//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// scrapeTimeout bounds every wait on Prometheus: the ServiceMonitor's
// interval is 30s, a new target's first scrape comes within one interval.
const scrapeTimeout = 150 * time.Second

// waitTarget polls Prometheus's active targets of the operator's
// ServiceMonitor until one satisfies ok, and fails with what Prometheus, the
// kubelets and prometheus-operator said.
func waitTarget(t *testing.T, mon *monitoring, op *operator, what string, ok func(target) bool) target {
	t.Helper()
	return pollTargets(t, mon, "serviceMonitor/"+op.ns, func() ([]target, error) { return mon.targets(op.ns) }, what, ok, op.k.logs)
}

// pollTargets polls list (the targets of pools) until one target satisfies
// ok, and fails with what Prometheus, extraLogs and prometheus-operator said.
func pollTargets(t *testing.T, mon *monitoring, pools string, list func() ([]target, error), what string, ok func(target) bool, extraLogs func() string) target {
	t.Helper()
	var last []target
	var lastErr error
	var found target
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, scrapeTimeout, true, func(context.Context) (bool, error) {
		last, lastErr = list()
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
		t.Fatalf("Prometheus: %s: not within %s (targets of %s: %s; error %v)\n%s\n%s\n%s--- prometheus-operator ---\n%s",
			what, scrapeTimeout, pools, raw, lastErr, mon.overview(), extraLogs(), mon.k.logs(), promOperator.tail(20))
	}
	t.Logf("Prometheus: %s: %s %s", found.ScrapePool, found.ScrapeURL, found.Health)
	return found
}

// waitUp waits until the operator's target is up with a scrape that started
// after since, and returns it.
func waitUp(t *testing.T, mon *monitoring, op *operator, since time.Time) target {
	t.Helper()
	return waitTarget(t, mon, op, "target up after "+since.Format(time.TimeOnly), upSince(since))
}

func upSince(since time.Time) func(target) bool {
	return func(tg target) bool { return tg.Health == "up" && tg.LastScrape.After(since) }
}

// assertOperatorSeries asserts Prometheus stored controller_runtime_* series
// scraped from the operator's target.
func assertOperatorSeries(t *testing.T, mon *monitoring, tg target) {
	t.Helper()
	q := fmt.Sprintf(`count by (__name__) ({__name__=~"controller_runtime_.+", job=%q, namespace=%q})`, tg.Labels["job"], tg.Labels["namespace"])
	var got []sample
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, 30*time.Second, true, func(context.Context) (bool, error) {
		var err error
		got, err = mon.query(q)
		return err == nil && len(got) > 0, nil
	})
	if err != nil {
		t.Fatalf("Prometheus stored no controller_runtime_* series of %v (%s)", tg.Labels, q)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Metric["__name__"])
	}
	t.Logf("Prometheus stored %d controller_runtime_* metrics of %s, e.g. %v", len(names), tg.ScrapeURL, names[:min(3, len(names))])
}

// tlsConfig is the tls_config of the scrape job Prometheus loaded for the
// target's pool.
func tlsConfig(t *testing.T, mon *monitoring, tg target) map[string]any {
	t.Helper()
	job, err := mon.scrapeConfig(tg.ScrapePool)
	if err != nil || job == nil {
		t.Fatalf("no scrape job %s in Prometheus's config: %v", tg.ScrapePool, err)
	}
	tc, _ := job["tls_config"].(map[string]any)
	return tc
}

// waitServedSerial waits until the endpoint at addr serves the certificate
// with that serial.
func waitServedSerial(t *testing.T, addr string, serial *big.Int, within time.Duration, logs func() string) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, within, true, func(context.Context) (bool, error) {
		c, err := servedCert(addr)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = "serial " + c.SerialNumber.String() + " " + c.Subject.String()
		return c.SerialNumber.Cmp(serial) == 0, nil
	})
	if err != nil {
		t.Fatalf("%s never served the certificate with serial %s (last: %s)\n%s", addr, serial, last, logs())
	}
}

// noDownSince asserts Prometheus recorded up == 1 for every scrape of the
// target since a time (a scrape's time), and at least two of them.
func noDownSince(t *testing.T, mon *monitoring, tg target, since time.Time) {
	t.Helper()
	window := strconv.Itoa(int(time.Since(since).Seconds())+1) + "s"
	sel := fmt.Sprintf(`up{job=%q, namespace=%q}`, tg.Labels["job"], tg.Labels["namespace"])
	for q, check := range map[string]func(float64) bool{
		"min_over_time(" + sel + "[" + window + "])":   func(v float64) bool { return v == 1 },
		"count_over_time(" + sel + "[" + window + "])": func(v float64) bool { return v >= 2 },
	} {
		got, err := mon.query(q)
		if err != nil || len(got) != 1 {
			t.Errorf("%s: %v %v", q, got, err)
			continue
		}
		v, _ := strconv.ParseFloat(got[0].value(), 64)
		if !check(v) {
			t.Errorf("%s = %v", q, v)
		} else {
			t.Logf("%s = %v", q, v)
		}
	}
}

// probe runs status --probe against the endpoint Prometheus scrapes
// and returns the report.
func probe(t *testing.T, op *operator, mon *monitoring, sa string, extra ...string) (*report, pluginResult) {
	t.Helper()
	url := "https://" + op.metricsAddr(t) + "/metrics"
	return status(t, append([]string{"-n", op.ns, "--probe", "--metrics-url", url, "--prometheus-sa", mon.ns + "/" + sa}, extra...)...)
}

func stsGeneration(t *testing.T, ns string) (int64, string) {
	t.Helper()
	sts, err := cluster.Kube.AppsV1().StatefulSets(ns).Get(cluster.Context(t), "elastic-operator", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sts.Spec.Template)
	return sts.Generation, string(raw)
}

// renewal writes a renewed certificate into the serving Secret.
type renewal func(t *testing.T, certPEM, keyPEM []byte)

// renewWithUseCert renews as a user does: use-cert --cert/--key.
func renewWithUseCert(dir string, useCert func(*testing.T, ...string) pluginResult) renewal {
	return func(t *testing.T, certPEM, keyPEM []byte) {
		useCert(t, "--cert", writeFile(t, dir, "renewed.crt", certPEM), "--key", writeFile(t, dir, "renewed.key", keyPEM))
	}
}

// renewAsCertManager renews as cert-manager's issuing controller does when a
// Certificate is renewed: it updates the Secret's data in place (its field
// manager), and nothing else changes.
func renewAsCertManager(ns, secret string) renewal {
	return func(t *testing.T, certPEM, keyPEM []byte) {
		s, err := cluster.Kube.CoreV1().Secrets(ns).Get(cluster.Context(t), secret, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Data["tls.crt"], s.Data["tls.key"] = certPEM, keyPEM
		if _, err := cluster.Kube.CoreV1().Secrets(ns).Update(cluster.Context(t), s, metav1.UpdateOptions{FieldManager: "cert-manager-certificates-issuing"}); err != nil {
			t.Fatal(err)
		}
	}
}

// rotation renews the serving certificate while everything runs, and
// asserts the container serving TLS picked it up without a restart, the pod
// template stayed, and Prometheus never saw the target down. It returns the
// new certificate's serial.
func rotation(t *testing.T, op *operator, mon *monitoring, container string, ca *testCA, svcName string,
	renew renewal, oldSerial string) string {
	addr := op.metricsAddr(t)
	served, err := servedCert(addr)
	if err != nil || served.SerialNumber.String() != oldSerial {
		t.Fatalf("before rotation the endpoint serves %v (err %v), want serial %s", served, err, oldSerial)
	}
	p := op.k.proc(container)
	if p == nil {
		t.Fatalf("%s not running\n%s", container, op.k.logs())
	}
	runs, restarts := op.k.counts()
	gen, tmpl := stsGeneration(t, op.ns)
	// The window checked below starts at the last scrape before the renewal.
	before := waitUp(t, mon, op, time.Time{}).LastScrape

	certPEM, keyPEM, cert := ca.issue(t, svcName, svcName+".cluster.local")
	start := time.Now()
	renew(t, certPEM, keyPEM)
	s, err := cluster.Kube.CoreV1().Secrets(op.ns).Get(cluster.Context(t), "eck-metrics-tls", metav1.GetOptions{})
	if err != nil || string(s.Data["tls.crt"]) != string(certPEM) {
		t.Fatalf("the renewal did not update the Secret: %v", err)
	}
	// certwatcher / kube-rbac-proxy's reloader poll (kube-rbac-proxy: 1m).
	waitServedSerial(t, addr, cert.SerialNumber, 150*time.Second, op.k.logs)
	t.Logf("new certificate served %s after the renewal", time.Since(start).Round(time.Second))
	tg := waitUp(t, mon, op, time.Now())

	if now := op.k.proc(container); now == nil || now.pid() != p.pid() {
		t.Errorf("%s was restarted (pid %d before)", container, p.pid())
	}
	if r2, rs2 := op.k.counts(); r2 != runs || rs2 != restarts {
		t.Errorf("pod runs %d -> %d, container restarts %d -> %d", runs, r2, restarts, rs2)
	}
	if gen2, tmpl2 := stsGeneration(t, op.ns); gen2 != gen || tmpl2 != tmpl {
		t.Errorf("StatefulSet template changed by the rotation (generation %d -> %d)", gen, gen2)
	}
	noDownSince(t, mon, tg, before)
	assertOperatorSeries(t, mon, tg)
	return cert.SerialNumber.String()
}

// securedOperator is one ECK operator and one Prometheus that the cases of
// TestNative and TestSidecar secure in turn: enable, then use-cert with a
// certificate of the test's CA.
type securedOperator struct {
	op      *operator
	mon     *monitoring
	dir     string
	ca      *testCA
	svcName string
	caFile  string
}

func newSecuredOperator(t *testing.T, version string) *securedOperator {
	s := &securedOperator{op: newOperator(t, version), mon: newMonitoring(t), dir: t.TempDir(), ca: newCA(t)}
	s.svcName = "elastic-operator-metrics." + s.op.ns + ".svc"
	s.caFile = writeFile(t, s.dir, "ca.crt", s.ca.pem)
	return s
}

// useCert runs use-cert for the serving Secret eck-metrics-tls and the CA
// Secret eck-metrics-ca, with extra flags.
func (s *securedOperator) useCert(t *testing.T, extra ...string) pluginResult {
	return mustPlugin(t, append([]string{"use-cert", "-n", s.op.ns, "--secret", "eck-metrics-tls",
		// No --monitor-label: use-cert keeps the one enable set,
		// or Prometheus would stop selecting the ServiceMonitor.
		"--ca-secret", "eck-metrics-ca", "--ca", s.caFile, "--prometheus-namespace", s.mon.ns}, extra...)...)
}

// enableSelfSigned runs enable, waits for the container serving TLS, and
// asserts Prometheus scrapes the operator without verifying the certificate
// and status passes; it returns status's report for more expectations.
func (s *securedOperator) enableSelfSigned(t *testing.T, container string) *report {
	before := time.Now()
	mustPlugin(t, "enable", "-n", s.op.ns, "--monitor-label", s.mon.label)
	s.op.waitRunning(t, container)
	tg := waitUp(t, s.mon, s.op, before)
	assertOperatorSeries(t, s.mon, tg)
	if tc := tlsConfig(t, s.mon, tg); tc["insecure_skip_verify"] != true {
		t.Errorf("scrape job's tls_config %v, want insecure_skip_verify: true", tc)
	}
	rep, r := probe(t, s.op, s.mon, "prometheus")
	if r.err != nil {
		t.Errorf("status failed although Prometheus scrapes: %v\n%s", rep.failed(), r)
	}
	rep.expect(t, "live-endpoint.token", "pass", "200", "")
	return rep
}

// useCertVerified issues a certificate, has use-cert create the TLS Secret
// from its files, mounts the CA Secret into Prometheus as use-cert says, and
// asserts Prometheus scrapes the served certificate verified; it returns the
// certificate's serial.
func (s *securedOperator) useCertVerified(t *testing.T) string {
	op, mon, svcName := s.op, s.mon, s.svcName
	certPEM, keyPEM, cert := s.ca.issue(t, svcName, svcName+".cluster.local")
	r := s.useCert(t, "--cert", writeFile(t, s.dir, "tls.crt", certPEM), "--key", writeFile(t, s.dir, "tls.key", keyPEM))
	// The plugin says which secret Prometheus must mount; do so.
	if !strings.Contains(r.stdout, "secrets:\n    - eck-metrics-ca") {
		t.Errorf("use-cert did not print the Prometheus spec.secrets entry:\n%s", r)
	}
	mon.patchSpec(t, map[string]any{"secrets": []string{"eck-metrics-ca"}})
	mon.waitPod(t, "the CA secret mounted", mountsSecret("eck-metrics-ca"))
	waitServedSerial(t, op.metricsAddr(t), cert.SerialNumber, 30*time.Second, op.k.logs)
	// A scrape after the endpoint served our certificate.
	tg := waitUp(t, mon, op, time.Now())
	tc := tlsConfig(t, mon, tg)
	if tc["insecure_skip_verify"] != false || tc["ca_file"] != "/etc/prometheus/secrets/eck-metrics-ca/ca.crt" || tc["server_name"] != svcName {
		t.Errorf("scrape job's tls_config %v, want verification with the CA secret's ca.crt and server_name %s", tc, svcName)
	}
	assertOperatorSeries(t, mon, tg)
	rep, r := probe(t, op, mon, "prometheus")
	if r.err != nil {
		t.Errorf("status failed although Prometheus scrapes: %v\n%s", rep.failed(), r)
	}
	rep.expect(t, "servicemonitor.tls", "pass", "serverName "+svcName, "")
	return cert.SerialNumber.String()
}
