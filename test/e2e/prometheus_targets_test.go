//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
)

// TestStatusAsksPrometheus: prometheus-targets asks the real Prometheus
// (run by the real prometheus-operator, scraping the real ECK 3.5.0
// operator) at --prometheus-url: the target up passes; when Prometheus's
// ServiceAccount loses its /metrics grant, Prometheus's own 403 is reported
// verbatim with the grant to give. Through the service proxy, which cannot
// reach the harness's loopback pods, the check only warns, within its bound.
// status --wait, run before Prometheus's first scrape, ends at the target up.
func TestStatusAsksPrometheus(t *testing.T) {
	op := newOperator(t, "3.5.0")
	monNS := "monitoring-" + rand.String(5)
	before := time.Now()
	mustPlugin(t, "enable", "-n", op.ns, "--monitor-label", "e2e-prometheus="+monNS)
	mon := newMonitoringIn(t, monNS, "e2e", "e2e-prometheus", monNS)
	op.waitRunning(t, "manager")
	url := mon.baseURL()

	// --wait from before Prometheus's first scrape of the operator: it ends
	// when Prometheus reports the target up.
	rep, r := status(t, "-n", op.ns, "--check", "prometheus-targets", "--prometheus-url", url, "--wait="+scrapeTimeout.String())
	t.Logf("status --wait said:\n%s", r.stderr)
	if r.err != nil {
		t.Errorf("status --wait did not end with the target up: %s", r)
	}
	rep.expect(t, "prometheus-targets.up", "pass", " up (last scrape ", "")
	up := waitUp(t, mon, op, before)
	pool := up.ScrapePool

	rep, r = status(t, "-n", op.ns, "--check", "prometheus-targets", "--prometheus-url", url)
	if r.err != nil {
		t.Errorf("status with the target up failed: %s", r)
	}
	rep.expect(t, "prometheus-targets.answered", "pass", "Prometheus at "+url+" answered", "")
	rep.expect(t, "prometheus-targets.pool", "pass", "1 target(s) in "+pool, "")
	rep.expect(t, "prometheus-targets.up", "pass", up.ScrapeURL+" up (last scrape ", "")

	t.Run("grant removed: Prometheus's 403", func(t *testing.T) {
		mon.serviceAccount(t, "prometheus-nogrant", false)
		mon.patchSpec(t, map[string]any{"serviceAccountName": "prometheus-nogrant"})
		mon.waitPod(t, "ServiceAccount prometheus-nogrant", serviceAccount("prometheus-nogrant"))
		denied := time.Now()
		tg := waitTarget(t, mon, op, "target down with 403", func(tg target) bool {
			return tg.Health == "down" && tg.LastScrape.After(denied) && strings.Contains(tg.LastError, "403")
		})
		t.Logf("Prometheus's lastError: %q", tg.LastError)
		rep, r := status(t, "-n", op.ns, "--check", "prometheus-targets", "--prometheus-url", mon.baseURL())
		if r.err == nil {
			t.Error("status exit 0 although Prometheus gets 403")
		}
		// The text the unit tests map is Prometheus's own.
		rep.expect(t, "prometheus-targets.up", "fail", "down: server returned HTTP status 403 Forbidden", "--non-resource-url=/metrics")
		rep.expect(t, "prometheus-targets.up", "fail", tg.LastError, "--serviceaccount="+monNS+":prometheus-nogrant")
	})

	t.Run("through the service proxy: a warning, bounded", func(t *testing.T) {
		start := time.Now()
		rep, r := status(t, "-n", op.ns, "--check", "prometheus-targets.answered")
		if r.err != nil {
			t.Errorf("status failed for an unanswering Prometheus: %s", r)
		}
		rep.expect(t, "prometheus-targets.answered", "warn", "Prometheus "+monNS+"/e2e: ", "--prometheus-url")
		for _, c := range rep.Checks {
			t.Logf("%s: %s %q", c.ID, c.Outcome, c.Message)
		}
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("status took %s asking through the proxy", took)
		}
	})
}
