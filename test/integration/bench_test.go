package integration

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
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

// Steady state: an enabled operator costs at most 9 requests (each object
// it may write read once; no reader object and no PodMonitor where our
// ServiceMonitor and the absent reader ServiceAccount say none is left)
// and no full API discovery.
func TestEnableRequestBudget(t *testing.T) {
	// Both kinds served, as prometheus-operator serves them.
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "budget")
	cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))

	var log requestLog
	r := mustSucceed(t, cluster.RunWith(t, cluster.Kubeconfig, log.wrap, "enable", "-n", ns))
	if r.Requests > 9 {
		t.Errorf("steady-state enable sent %d requests, budget 9:\n%s", r.Requests, strings.Join(log.paths, "\n"))
	}
	for _, p := range log.paths {
		if strings.HasSuffix(p, " /api") || strings.HasSuffix(p, " /apis") {
			t.Errorf("full API discovery: %s", p)
		}
		if !strings.HasPrefix(p, "GET ") {
			t.Errorf("steady state wrote: %s", p)
		}
	}
	t.Logf("steady-state enable: %d requests: %s", r.Requests, strings.Join(log.paths, ", "))
}

func benchmarkEnable(b *testing.B, file string, args ...string) {
	cluster.InstallMonitoringCRDs(b, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(b, "bench")
	cluster.InstallFixture(b, file, ns)
	mustSucceed(b, cluster.Run(b, "enable", "-n", ns))
	var requests int64
	b.ResetTimer()
	for b.Loop() {
		r := mustSucceed(b, cluster.Run(b, append([]string{"enable", "-n", ns}, args...)...))
		requests += r.Requests
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

// runPluginEnv makes the test binary run the plugin instead of the tests.
const runPluginEnv = "ECK_METRICS_RUN_PLUGIN"

// runProcess runs the plugin as its own process (the test binary re-executed),
// as a user runs it: one-time costs such as building client-go's schema
// parser count in every run, unlike in the in-process benchmarks.
func runProcess(t testing.TB, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	stdout, stderr, err := runPluginProcess(t, args...)
	elapsed := time.Since(start)
	if err != nil {
		// A failing run is no measurement: an early exit would look fast.
		t.Fatalf("%v: %v\n%s%s", args, err, stdout, stderr)
	}
	return elapsed
}

// steadyState installs an enabled, rolled-out operator: enable has nothing
// to apply and status passes.
func steadyState(t testing.TB, prefix string) string {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, prefix)
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	rolledOut(t, ns, f.Name)
	return ns
}

// BenchmarkProcess reports the wall time of a steady-state enable and of
// status, each a process of its own as a user runs them.
func BenchmarkProcess(b *testing.B) {
	ns := steadyState(b, "procbench")
	for _, command := range []string{"enable", "status"} {
		b.Run(command, func(b *testing.B) {
			for b.Loop() {
				runProcess(b, command, "-n", ns)
			}
		})
	}
}

// BenchmarkProcessRatio keeps a steady-state enable (8 requests) within 1.5x
// of status's (10 requests) wall time, each a process of its own: medians of
// interleaved runs, so a load that comes and goes hits both. It fails the
// benchmark, not a test: wall time is measured by make bench, never by
// make test.
func BenchmarkProcessRatio(b *testing.B) {
	ns := steadyState(b, "procratio")
	runProcess(b, "version", "--client") // warm the page cache
	var enable, status []time.Duration
	for b.Loop() {
		enable = append(enable, runProcess(b, "enable", "-n", ns))
		status = append(status, runProcess(b, "status", "-n", ns))
	}
	median := func(runs []time.Duration) time.Duration {
		slices.Sort(runs)
		return runs[len(runs)/2]
	}
	ratio := float64(median(enable)) / float64(median(status))
	b.ReportMetric(float64(median(enable).Milliseconds()), "enable-ms")
	b.ReportMetric(float64(median(status).Milliseconds()), "status-ms")
	b.ReportMetric(ratio, "enable/status")
	if ratio > 1.5 {
		b.Errorf("steady-state enable takes %s, more than 1.5x status's %s", median(enable), median(status))
	}
}

// liveFleet is startFleet's kubeconfig without the stopped cluster, both
// installs enabled: status --all-contexts exits 0, so that its wall time is
// a measurement and not an early exit.
func liveFleet(b *testing.B) (*fleetSetup, string) {
	s := startFleet(b)
	s.enableSidecar(b)
	cfg, err := clientcmd.LoadFromFile(s.kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	delete(cfg.Contexts, "stopped")
	return s, writeKubeconfig(b, cfg)
}

// hostCounter counts the requests of one command by API server.
type hostCounter struct {
	mu     sync.Mutex
	byHost map[string]int
}

func (h *hostCounter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h.mu.Lock()
		h.byHost[r.URL.Host]++
		h.mu.Unlock()
		return next.RoundTrip(r)
	})
}

// BenchmarkStatusAllContexts reports status --all-contexts over the native
// and the sidecar cluster: the requests each cluster gets (failing when
// they differ from those of a status of that cluster alone), and the wall
// time, each run a process of its own, against the slowest single-cluster
// status: medians of interleaved runs; more than 1.5x fails the benchmark.
func BenchmarkStatusAllContexts(b *testing.B) {
	s, kubeconfig := liveFleet(b)
	single := map[string]int{}
	for _, name := range []string{"native", "sidecar"} {
		counter := &hostCounter{byHost: map[string]int{}}
		mustSucceed(b, cluster.RunWith(b, kubeconfig, counter.wrap, "status", "--context", name))
		single[strings.TrimPrefix(s.servers[name], "https://")] = counter.byHost[strings.TrimPrefix(s.servers[name], "https://")]
	}
	counter := &hostCounter{byHost: map[string]int{}}
	mustSucceed(b, cluster.RunWith(b, kubeconfig, counter.wrap, "status", "--all-contexts"))
	total := 0
	for host, want := range single {
		if counter.byHost[host] != want {
			b.Errorf("status --all-contexts sent %d requests to %s, status of that cluster alone %d", counter.byHost[host], host, want)
		}
		total += counter.byHost[host]
	}

	runProcess(b, "version", "--client") // warm the page cache
	var native, sidecar, fleet []time.Duration
	for b.Loop() {
		native = append(native, runProcess(b, "--kubeconfig", kubeconfig, "status", "--context", "native"))
		sidecar = append(sidecar, runProcess(b, "--kubeconfig", kubeconfig, "status", "--context", "sidecar"))
		fleet = append(fleet, runProcess(b, "--kubeconfig", kubeconfig, "status", "--all-contexts"))
	}
	median := func(runs []time.Duration) time.Duration {
		slices.Sort(runs)
		return runs[len(runs)/2]
	}
	slowest := max(median(native), median(sidecar))
	ratio := float64(median(fleet)) / float64(slowest)
	b.ReportMetric(float64(median(fleet).Milliseconds()), "all-contexts-ms")
	b.ReportMetric(float64(slowest.Milliseconds()), "slowest-single-ms")
	b.ReportMetric(ratio, "all-contexts/slowest")
	// After the loop: b.Loop's first call resets the metrics.
	b.ReportMetric(float64(total)/float64(len(single)), "requests/cluster")
	if ratio > 1.5 {
		b.Errorf("status --all-contexts takes %s, more than 1.5x the slowest single-cluster status's %s", median(fleet), slowest)
	}
}
