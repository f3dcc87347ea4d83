package integration

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// requestLog records the requests of one command.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.paths = append(l.paths, r.Method+" "+r.URL.Path)
		l.mu.Unlock()
		return next.RoundTrip(r)
	})
}

// Steady state: an enabled operator costs at most 12 requests and no full
// API discovery.
func TestEnableRequestBudget(t *testing.T) {
	installServiceMonitorCRD(t)
	ns := newNamespace(t, "budget")
	installFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, run(t, "enable", "-n", ns))

	var log requestLog
	r := mustSucceed(t, runWith(t, cluster.kubeconfig, log.wrap, "enable", "-n", ns))
	if r.requests > 12 {
		t.Errorf("steady-state enable sent %d requests, budget 12:\n%s", r.requests, strings.Join(log.paths, "\n"))
	}
	for _, p := range log.paths {
		if strings.HasSuffix(p, " /api") || strings.HasSuffix(p, " /apis") {
			t.Errorf("full API discovery: %s", p)
		}
		if !strings.HasPrefix(p, "GET ") {
			t.Errorf("steady state wrote: %s", p)
		}
	}
	t.Logf("steady-state enable: %d requests: %s", r.requests, strings.Join(log.paths, ", "))
}

func benchmarkEnable(b *testing.B, file string, args ...string) {
	installServiceMonitorCRD(b)
	ns := newNamespace(b, "bench")
	installFixture(b, file, ns)
	mustSucceed(b, run(b, "enable", "-n", ns))
	var requests int64
	b.ResetTimer()
	for b.Loop() {
		r := mustSucceed(b, run(b, append([]string{"enable", "-n", ns}, args...)...))
		requests += r.requests
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

// BenchmarkEnableSteadyState: enable on an enabled operator (nothing to apply).
func BenchmarkEnableSteadyState(b *testing.B) { benchmarkEnable(b, "eck-3.5.0-all-in-one.yaml") }

// BenchmarkEnableSidecarSteadyState: the same for a sidecar-mode operator.
func BenchmarkEnableSidecarSteadyState(b *testing.B) {
	benchmarkEnable(b, "eck-2.15.0-all-in-one.yaml")
}

// BenchmarkEnableDryRunServer: every apply sent with dryRun=All.
func BenchmarkEnableDryRunServer(b *testing.B) {
	benchmarkEnable(b, "eck-3.5.0-all-in-one.yaml", "--dry-run=server", "-o", "name")
}
