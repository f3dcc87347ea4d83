//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestSidecar: ECK 2.15.0 behind the kube-rbac-proxy sidecar the plugin
// adds (v0.19.1, run with the args of the patched StatefulSet).
func TestSidecar(t *testing.T) {
	start := time.Now()
	op := newOperator(t, "2.15.0")
	mon := newMonitoring(t)
	dir := t.TempDir()
	ca := newCA(t)
	svcName := "elastic-operator-metrics." + op.ns + ".svc"
	caFile := writeFile(t, dir, "ca.crt", ca.pem)
	useCert := func(t *testing.T, extra ...string) pluginResult {
		return mustPlugin(t, append([]string{"use-cert", "-n", op.ns, "--secret", "eck-metrics-tls",
			// No --monitor-label: use-cert keeps the one enable set,
			// or Prometheus would stop selecting the ServiceMonitor.
			"--ca-secret", "eck-metrics-ca", "--ca", caFile, "--prometheus-namespace", mon.ns}, extra...)...)
	}

	ok := t.Run("3 enable, self-signed, through kube-rbac-proxy", func(t *testing.T) {
		before := time.Now()
		mustPlugin(t, "enable", "-n", op.ns, "--monitor-label", mon.label)
		op.waitRunning(t, "kube-rbac-proxy")
		tg := waitUp(t, mon, op, before)
		assertOperatorSeries(t, mon, tg)
		if tc := tlsConfig(t, mon, tg); tc["insecure_skip_verify"] != true {
			t.Errorf("scrape job's tls_config %v, want insecure_skip_verify: true", tc)
		}
		rep, r := probe(t, op, mon, "prometheus")
		if r.err != nil {
			t.Errorf("status failed although Prometheus scrapes: %v\n%s", rep.failed(), r)
		}
		rep.expect(t, "operator.mode", "pass", "sidecar", "")
		rep.expect(t, "live-endpoint.token", "pass", "200", "")
	})
	if !ok {
		return
	}

	var servingSerial string
	ok = t.Run("4 use-cert, verified TLS", func(t *testing.T) {
		certPEM, keyPEM, cert := ca.issue(t, svcName, svcName+".cluster.local")
		// use-cert creates the TLS Secret from the files.
		r := useCert(t, "--cert", writeFile(t, dir, "tls.crt", certPEM), "--key", writeFile(t, dir, "tls.key", keyPEM))
		if !strings.Contains(r.stdout, "secrets:\n    - eck-metrics-ca") {
			t.Errorf("use-cert did not print the Prometheus spec.secrets entry:\n%s", r)
		}
		mon.patchSpec(t, map[string]any{"secrets": []string{"eck-metrics-ca"}})
		mon.waitPod(t, "the CA secret mounted", mountsSecret("eck-metrics-ca"))
		waitServedSerial(t, op.metricsAddr(t), cert.SerialNumber, 30*time.Second, op.k.logs)
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
		servingSerial = cert.SerialNumber.String()
	})
	if !ok {
		return
	}

	t.Run("5 rotation without restart (kube-rbac-proxy)", func(t *testing.T) {
		rotation(t, op, mon, "kube-rbac-proxy", ca, svcName, renewWithUseCert(dir, useCert), servingSerial)
	})
	t.Logf("TestSidecar took %s", time.Since(start).Round(time.Second))
}
