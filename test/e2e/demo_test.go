//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo is make demo: the e2e harness with ECK 3.5.0 in elastic-system
// and a Prometheus in monitoring, the plugin run as a user runs it (kubectl
// finds it on PATH), then everything left running for the user until
// Ctrl-C, or, with DEMO_STOP_AFTER_LAST_STEP set, stopped after the last
// step. It runs only with DEMO=1 (make demo sets it).
func TestDemo(t *testing.T) {
	if !demo.on {
		t.Skip("make demo runs it (DEMO=1)")
	}
	demof("installing ECK 3.5.0 (its CRDs, the all-in-one manifest) in namespace elastic-system and starting the operator…")
	op := newOperatorIn(t, "3.5.0", "elastic-system")
	// For enable --scrape-auth secret (and --monitor podmonitor): the
	// reader's token Secret gets its token.
	playTokensController(t, op.ns)
	demof("starting Prometheus in namespace monitoring (it selects ServiceMonitors and PodMonitors labelled release=prometheus)…")
	mon := newMonitoringIn(t, "monitoring", "prometheus", "release", "prometheus")

	pluginDir := filepath.Dir(cluster.plugin)
	path := pluginDir + string(os.PathListSeparator) + framework.AssetsDir() + string(os.PathListSeparator) + os.Getenv("PATH")
	kubectl := func(args ...string) error {
		fmt.Printf("\n$ kubectl %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(cluster.Context(t), filepath.Join(framework.AssetsDir(), "kubectl"), args...)
		cmd.Env = append(baseEnv(), "KUBECONFIG="+cluster.Kubeconfig, "PATH="+path)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}

	before := time.Now()
	if err := kubectl("eck-metrics", "enable", "--monitor-label", mon.label); err != nil {
		t.Fatalf("enable: %v", err)
	}
	fmt.Println()
	demof("waiting for Prometheus to scrape the operator (the ServiceMonitor's interval is 30s)…")
	tg := waitUp(t, mon, op, before)
	fmt.Printf("Prometheus target %s is up: %s, last scrape %s ago\n", tg.ScrapePool, tg.ScrapeURL,
		time.Since(tg.LastScrape).Round(time.Second))

	metricsURL := "https://" + op.metricsAddr(t) + "/metrics"
	if err := kubectl("eck-metrics", "status", "--probe", "--metrics-url", metricsURL); err != nil {
		t.Fatalf("status: %v", err)
	}

	promtool := binary("promtool")
	query := fmt.Sprintf(`up{namespace=%q}`, op.ns)
	fmt.Printf("\n$ %s query instant %s '%s'\n", shown(promtool), mon.baseURL(), query)
	out, err := exec.CommandContext(cluster.Context(t), promtool, "query", "instant", mon.baseURL(), query).CombinedOutput()
	fmt.Print(string(out))
	if err != nil || !regexp.MustCompile(`(?m)^up\{.*\} => 1 @`).Match(out) {
		t.Fatalf("promtool query: %v: want the operator's up => 1", err)
	}

	fmt.Printf(`
The demo is running (ready %s after it started). In another shell, use it as a cluster:
  export KUBECONFIG=%s PATH=%s:%s:$PATH
  kubectl eck-metrics status
  kubectl eck-metrics enable --dry-run=server
  kubectl eck-metrics use-cert --self-signed
  kubectl eck-metrics enable --monitor podmonitor
  kubectl eck-metrics disable
Prometheus: %s (targets: %s/targets)
Logs: operator %s, Prometheus %s, prometheus-operator %s
`, time.Since(demo.started).Round(time.Second), cluster.Kubeconfig, pluginDir, absolute(framework.AssetsDir()),
		mon.baseURL(), mon.baseURL(), op.k.dir, mon.k.dir, promOperator.log)

	if os.Getenv("DEMO_STOP_AFTER_LAST_STEP") != "" {
		fmt.Println("DEMO_STOP_AFTER_LAST_STEP is set: stopping…")
		return
	}
	fmt.Println("Press Ctrl-C to stop everything and remove its files.")
	<-demo.stop.Done()
}

func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// shown is path relative to the working directory when it is under it.
func shown(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}

// TestMakeDemo runs make demo as a user would, stopping after its last
// step, and checks it reached a scraped target and a passing status, and
// left no process and no temporary file behind.
func TestMakeDemo(t *testing.T) {
	if demo.on {
		t.Skip("make demo itself")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make demo needs make:", err)
	}
	tmp := t.TempDir()
	// The demo's descendants that outlive it are reparented to this
	// process, where they can be found.
	setSubreaper(t, true)
	defer setSubreaper(t, false)
	existing := descendants(t)

	c, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, "make", "demo")
	cmd.Dir = framework.RepoRoot()
	cmd.Env = append(baseEnv(), "DEMO_STOP_AFTER_LAST_STEP=1", "TMPDIR="+tmp)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("make demo took %s:\n%s", time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Errorf("make demo: %v", err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\$ kubectl eck-metrics enable --monitor-label release=prometheus$`),
		regexp.MustCompile(`(?m)^\[5/5\] ServiceMonitor: ServiceMonitor elastic-system/elastic-operator created`),
		regexp.MustCompile(`(?m)^Prometheus target serviceMonitor/elastic-system/elastic-operator/0 is up: `),
		regexp.MustCompile(`(?m)^\$ kubectl eck-metrics status --probe --metrics-url https://`),
		regexp.MustCompile(`(?m)^Status: secured and scrapeable: \d+ passed, \d+ warnings, 0 failed`),
		regexp.MustCompile(`(?m)^up\{.*namespace="elastic-system".*\} => 1 @`),
		regexp.MustCompile(`(?m)^  export KUBECONFIG=\S+/admin.kubeconfig PATH=`),
		regexp.MustCompile(`(?m)^stopped: every process the demo started has ended`),
	} {
		if !want.Match(out) {
			t.Errorf("make demo printed no line matching %s", want)
		}
	}

	for _, p := range descendantList(t) {
		if existing[p.pid] == p.start {
			continue
		}
		if p.state == "Z" { // exited; reap what was reparented here
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
			continue
		}
		t.Errorf("make demo left process %d running: %s", p.pid, p.cmdline)
		// Not for the next run to find: end it (it is a child here now).
		if syscall.Kill(p.pid, syscall.SIGKILL) == nil {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(p.pid, &ws, 0, nil)
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("make demo left %s in its TMPDIR", filepath.Join(tmp, e.Name()))
	}
}

func setSubreaper(t *testing.T, on bool) {
	t.Helper()
	var v uintptr
	if on {
		v = 1
	}
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, v, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
}

type procInfo struct {
	pid     int
	state   string
	start   string // start time in clock ticks: a pid can be reused
	cmdline string
}

// descendants are this process's descendants, by /proc, keyed by pid with
// their start time.
func descendants(t *testing.T) map[int]string {
	t.Helper()
	list := descendantList(t)
	out := map[int]string{}
	for _, p := range list {
		out[p.pid] = p.start
	}
	return out
}

func descendantList(t *testing.T) []procInfo {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	children := map[int][]procInfo{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone
		}
		// pid (comm) state ppid ... starttime is field 22.
		s := string(raw)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 20 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		children[ppid] = append(children[ppid], procInfo{pid: pid, state: fields[0], start: fields[19],
			cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))})
	}
	var out []procInfo
	queue := []int{os.Getpid()}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}
