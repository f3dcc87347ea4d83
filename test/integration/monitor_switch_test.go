package integration

// The monitor flags (--monitor kind, --scrape-auth, labels, interval and
// timeout, --local with --scrape-config): bad input and bad combinations,
// switches between kinds and auths with their dry runs and faults, objects
// of others with our names.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Monitor and network-policy input that the cluster refuses, on enable and
// use-cert, on a cluster that serves ServiceMonitor but not PodMonitor.
// Refusals of the flags alone are unit tests: pkg/cmd's TestFlagRefusals.
func TestMonitorFlagsRefused(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "monflags")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	ca := newTestCA(t)
	leaf := ca.goodLeaf(t, ns)
	createTLSSecret(t, ns, "eck-metrics-tls", corev1.SecretTypeTLS, leaf.data())

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"timeout over the default interval", []string{"--scrape-timeout", "31s"}, "--scrape-timeout 31s is longer than the scrape interval 30s"},
		{"PodMonitor not served", []string{"--monitor", "podmonitor"}, "--monitor podmonitor, but this cluster does not serve monitoring.coreos.com/v1 PodMonitor"},
		{"PodMonitor not served, server dry run", []string{"--monitor", "podmonitor", "--dry-run=server"}, "does not serve monitoring.coreos.com/v1 PodMonitor"},
		{"PodMonitor not served, client dry run", []string{"--monitor", "podmonitor", "--dry-run=client"}, "does not serve monitoring.coreos.com/v1 PodMonitor"},
		// Without --prometheus-namespace, newer versions look for the selecting Prometheus's; here there is none (and the pod is not isolated).
		{"network policy without namespace", []string{"--network-policy"}, "--network-policy"},
		{"network policy on an unisolated pod", []string{"--network-policy", "--prometheus-namespace", "monitoring"}, "--network-policy: no NetworkPolicy isolates the pods of " + ns + "/elastic-operator for ingress"},
		{"network policy, server dry run", []string{"--network-policy", "--prometheus-namespace", "monitoring", "--dry-run=server"}, "no NetworkPolicy isolates the pods"},
	}
	for _, command := range [][]string{{"enable"}, {"use-cert", "--secret", "eck-metrics-tls"}} {
		for _, tc := range cases {
			t.Run(command[0]+"/"+tc.name, func(t *testing.T) {
				before := cluster.Snapshot(t, ns)
				args := append(append(append([]string{}, command...), "-n", ns), tc.args...)
				r := cluster.Run(t, args...)
				framework.ExpectOneLineRefusal(t, r, tc.want)
				framework.AssertNoKeyMaterial(t, r, leaf.keyPEM)
				framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			})
		}
	}
	before := cluster.Snapshot(t, ns)

	// Valid edge values are accepted: a timeout equal to the interval, an
	// annotation key with capitals (as Kubernetes allows).
	r := mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--dry-run=client", "--interval", "30s", "--scrape-timeout", "30s", "--monitor-annotation", "Team/Owner=x"))
	for _, want := range []string{"scrapeTimeout: 30s", "Team/Owner: x"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("dry run prints no %q:\n%s", want, r.Stdout)
		}
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
}

// An empty label or annotation value is valid in Kubernetes (and the flag
// accepts it): the monitor must carry it, not drop it without a word.
func TestMonitorKeepsEmptyLabelValue(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "monempty")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor-label", "canary=", "--monitor-label", "release=p", "--monitor-annotation", "note="))
	sm := getMonitor(t, patches.ServiceMonitorGVR, ns)
	if sm == nil {
		t.Fatal("no ServiceMonitor")
	}
	if sm.GetLabels()["release"] != "p" {
		t.Fatalf("labels %v", sm.GetLabels())
	}
	_, hasLabel := sm.GetLabels()["canary"]
	_, hasAnnotation := sm.GetAnnotations()["note"]
	if !hasLabel || !hasAnnotation {
		t.Fatalf("--monitor-label canary= and --monitor-annotation note= were dropped: labels %v annotations %v", sm.GetLabels(), sm.GetAnnotations())
	}
	before := cluster.Snapshot(t, ns)
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
}

// --local and --scrape-config: the job's own auth is accepted, with no
// request. (Refused combinations are pkg/cmd's TestFlagRefusals.)
func TestLocalScrapeJobOwnAuthSendsNothing(t *testing.T) {
	local := []string{"--local", "--operator-version", "3.5.0"}
	// The job's own auth, given explicitly, is accepted.
	r := mustSucceed(t, cluster.Run(t, append([]string{"enable", "--scrape-config", "prometheus", "--scrape-auth", "file"}, local...)...))
	if !strings.Contains(r.Stdout, "credentials_file: /var/run/secrets/kubernetes.io/serviceaccount/token") || r.Requests != 0 {
		t.Errorf("--scrape-config with --scrape-auth file (%d requests):\n%s", r.Requests, r.Stdout)
	}
}

// monitorState is what a switch leaves: which kind exists, its auth, and
// whether the reader objects of secret auth exist.
func monitorState(t *testing.T, ns string) string {
	t.Helper()
	var kinds []string
	var auth string
	for _, k := range []struct {
		kind string
		obj  *unstructured.Unstructured
	}{{"ServiceMonitor", getMonitor(t, patches.ServiceMonitorGVR, ns)}, {"PodMonitor", getMonitor(t, patches.PodMonitorGVR, ns)}} {
		if k.obj == nil {
			continue
		}
		kinds = append(kinds, k.kind)
		ep := monitorEndpoint(t, k.obj)
		switch {
		case ep["bearerTokenFile"] != nil && ep["authorization"] == nil:
			auth = "file"
		case ep["bearerTokenFile"] == nil && hasReaderCredentials(ep):
			auth = "secret"
		default:
			auth = fmt.Sprintf("mixed %v", ep)
		}
		if k.obj.GetLabels()["release"] != "p" || ep["interval"] != "1m" || ep["scrapeTimeout"] != "20s" {
			t.Errorf("%s lost the label, interval or timeout: %v %v", k.kind, k.obj.GetLabels(), ep)
		}
	}
	var readers []string
	for kind, exists := range readerObjects(t, ns) {
		if exists {
			readers = append(readers, kind)
		}
	}
	return fmt.Sprintf("%s/%s reader objects %d", strings.Join(kinds, "+"), auth, len(readers))
}

func hasReaderCredentials(ep map[string]any) bool {
	name, _, _ := unstructured.NestedString(ep, "authorization", "credentials", "name")
	return name == patches.ReaderTokenSecretName("elastic-operator")
}

// --scrape-timeout alone is weighed against the interval an earlier run
// set and keeps (not the default 30s), and so is --interval alone against
// the kept timeout; refusals name the interval that counts.
func TestMonitorTimeoutAgainstKeptInterval(t *testing.T) {
	cluster.InstallServiceMonitorCRD(t)
	ns := cluster.NewNamespace(t, "monkept")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--interval", "1m", "--scrape-timeout", "50s"))
	r := cluster.Run(t, "enable", "-n", ns, "--scrape-timeout", "45s")
	if r.Err != nil {
		t.Fatalf("--scrape-timeout 45s under the kept interval 1m refused: %v", r.Err)
	}
	ep := monitorEndpoint(t, getMonitor(t, patches.ServiceMonitorGVR, ns))
	if ep["interval"] != "1m" || ep["scrapeTimeout"] != "45s" {
		t.Errorf("endpoint %v, want interval 1m, scrapeTimeout 45s", ep)
	}
	before := cluster.Snapshot(t, ns)
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--scrape-timeout", "2m"), "--scrape-timeout 2m is longer than the scrape interval 1m")
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--interval", "30s"), "--scrape-timeout 45s is longer than the scrape interval 30s")
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns, "--interval", "30s", "--dry-run=server"), "nothing was changed")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	// A render knows no earlier run: the default interval counts.
	framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "--local", "--operator-version", "3.5.0", "--scrape-timeout", "31s"), "--scrape-timeout 31s is longer than the scrape interval 30s")
}

// Kind switches (ServiceMonitor -> PodMonitor -> ServiceMonitor) and auth
// switches (file -> secret -> file -> secret -> file): each server dry run
// writes nothing and says what the real run then does; each rerun without
// flags is a no-op and keeps kind, auth, label, interval and timeout.
func TestMonitorSwitchesDryRunFirst(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "monswitch")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor-label", "release=p", "--interval", "1m", "--scrape-timeout", "20s"))
	if got, want := monitorState(t, ns), "ServiceMonitor/file reader objects 0"; got != want {
		t.Fatalf("after enable: %s, want %s", got, want)
	}
	sm, pm := "ServiceMonitor "+ns+"/elastic-operator", "PodMonitor "+ns+"/elastic-operator"
	reader := "ServiceAccount " + ns + "/elastic-operator-metrics-reader"
	for _, tc := range []struct {
		flags []string
		says  []string // in the step line, " (server dry run)" after the state
		state string
	}{
		{[]string{"--monitor", "podmonitor"}, []string{reader + " created", pm + " created", sm + " deleted"}, "PodMonitor/secret reader objects 4"},
		{[]string{"--monitor", "servicemonitor"}, []string{reader + " unchanged", sm + " created", pm + " deleted"}, "ServiceMonitor/secret reader objects 4"},
		{[]string{"--scrape-auth", "file"}, []string{sm + " configured", reader + " deleted"}, "ServiceMonitor/file reader objects 0"},
		{[]string{"--scrape-auth", "secret"}, []string{reader + " created", sm + " configured"}, "ServiceMonitor/secret reader objects 4"},
		{[]string{"--scrape-auth", "file"}, []string{sm + " configured", reader + " deleted"}, "ServiceMonitor/file reader objects 0"},
	} {
		name := strings.Join(tc.flags, " ")
		before := cluster.Snapshot(t, ns)
		stateBefore := monitorState(t, ns)
		r := mustSucceed(t, cluster.Run(t, append([]string{"enable", "-n", ns, "--dry-run=server"}, tc.flags...)...))
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		if got := monitorState(t, ns); got != stateBefore {
			t.Errorf("%s --dry-run=server changed the monitor: %s -> %s", name, stateBefore, got)
		}
		for _, want := range tc.says {
			if !strings.Contains(r.Stderr, want+" (server dry run)") {
				t.Errorf("%s --dry-run=server does not say %q:\n%s", name, want+" (server dry run)", r.Stderr)
			}
		}
		r = mustSucceed(t, cluster.Run(t, append([]string{"enable", "-n", ns}, tc.flags...)...))
		for _, want := range tc.says {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("%s does not say %q:\n%s", name, want, r.Stdout)
			}
		}
		if got := monitorState(t, ns); got != tc.state {
			t.Errorf("after %s: %s, want %s", name, got, tc.state)
		}
		if strings.Contains(tc.state, "secret") {
			fillToken(t, ns) // the token controller's data keeps nothing from changing on a rerun
		}
		before = cluster.Snapshot(t, ns)
		r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
		framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		if strings.Contains(r.Stdout, "configured") || strings.Contains(r.Stdout, "created") || strings.Contains(r.Stdout, "deleted") {
			t.Errorf("rerun after %s is not a no-op:\n%s", name, r.Stdout)
		}
		if got := monitorState(t, ns); got != tc.state {
			t.Errorf("rerun after %s: %s, want %s", name, got, tc.state)
		}
	}
}

// Someone else's PodMonitor of our name: --monitor podmonitor is refused
// before anything is written and the PodMonitor is left as it was; the
// server dry run says nothing was changed (not "steps 1-4 are applied");
// enable (a ServiceMonitor) and disable leave it.
func TestMonitorLeavesOthersPodMonitor(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "monotherpm")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
		"metadata": map[string]any{"name": "elastic-operator", "namespace": ns, "labels": map[string]any{"team": "obs"}},
		"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"control-plane": "elastic-operator"}},
			"podMetricsEndpoints": []any{map[string]any{"port": "metrics", "interval": "10s"}}}}}
	if _, err := cluster.Dynamic.Resource(patches.PodMonitorGVR).Namespace(ns).Create(cluster.Context(t), other, metav1.CreateOptions{FieldManager: "kubectl-create"}); err != nil {
		t.Fatal(err)
	}
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "enable", "-n", ns, "--monitor", "podmonitor", "--dry-run=server")
	framework.ExpectOneLineRefusal(t, r, "PodMonitor "+ns+"/elastic-operator: another field manager owns .spec.podMetricsEndpoints")
	if strings.Contains(r.Err.Error(), "are applied") || !strings.Contains(r.Err.Error(), "nothing was changed") {
		t.Errorf("a server dry run's failure claims earlier steps applied, or does not say nothing changed: %v", r.Err)
	}
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	r = cluster.Run(t, "enable", "-n", ns, "--monitor", "podmonitor")
	framework.ExpectOneLineRefusal(t, r, "nothing was changed: PodMonitor "+ns+"/elastic-operator: another field manager owns .spec.podMetricsEndpoints")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))

	// The default ServiceMonitor goes next to it, and says it leaves it;
	// so does disable.
	for _, command := range []string{"enable", "disable"} {
		r = mustSucceed(t, cluster.Run(t, command, "-n", ns))
		if command == "enable" && !strings.Contains(r.Stdout, "[5/5] ServiceMonitor: ServiceMonitor "+ns+"/elastic-operator created") {
			t.Errorf("enable next to another's PodMonitor applies no ServiceMonitor:\n%s", r.Stdout)
		}
		if !strings.Contains(r.Stdout, "left PodMonitor "+ns+"/elastic-operator: not created by kubectl-eck-metrics") {
			t.Errorf("%s next to another's PodMonitor:\n%s", command, r.Stdout)
		}
		pmObj := getMonitor(t, patches.PodMonitorGVR, ns)
		if pmObj == nil || pmObj.GetLabels()["team"] != "obs" || pmObj.GetLabels()[patches.ManagedByLabel] != "" || pmObj.GetResourceVersion() != before["PodMonitor/"+ns+"/elastic-operator"] {
			t.Errorf("%s changed another's PodMonitor: %v", command, pmObj)
		}
	}
}

// Someone else's ServiceAccount of the reader's name (made with kubectl
// create: no field of it is managed): enable --scrape-auth secret must not
// take it over silently, and neither a switch to file auth nor disable may
// delete it.
func TestMonitorLeavesOthersReaderServiceAccount(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	ns := cluster.NewNamespace(t, "monothersa")
	f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
	t.Cleanup(func() { cluster.RemoveInstall(t, f) })
	name := patches.ReaderName("elastic-operator")
	sa, err := cluster.Kube.CoreV1().ServiceAccounts(ns).Create(cluster.Context(t), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}, metav1.CreateOptions{FieldManager: "kubectl-create"})
	if err != nil {
		t.Fatal(err)
	}
	before := cluster.Snapshot(t, ns)
	r := cluster.Run(t, "enable", "-n", ns, "--scrape-auth", "secret")
	notOurs := "ServiceAccount " + ns + "/" + name
	framework.ExpectOneLineRefusal(t, r, notOurs+" exists and was not created by kubectl-eck-metrics")
	framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
	got, err := cluster.Kube.CoreV1().ServiceAccounts(ns).Get(cluster.Context(t), name, metav1.GetOptions{})
	if err != nil || got.UID != sa.UID || got.Labels[patches.ManagedByLabel] != "" {
		t.Errorf("another's ServiceAccount %s was changed: %v %v", name, err, got.Labels)
	}
}

// The connection drops in step 5 of a switch to a PodMonitor: at the
// PodMonitor's apply (after the reader's objects), then at the old
// ServiceMonitor's delete (after the PodMonitor's apply). Each time the
// error says what is applied, and rerunning the command completes the switch.
func TestMonitorSwitchFaultRerunCompletes(t *testing.T) {
	cluster.InstallMonitoringCRDs(t, "servicemonitors", "podmonitors")
	for _, tc := range []struct {
		name string
		drop func(r *http.Request) bool
	}{
		{"PodMonitor apply", func(r *http.Request) bool {
			return r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/podmonitors/")
		}},
		// A delete carries dryRun in its body: the first is the dry-run pass.
		{"ServiceMonitor delete", func() func(r *http.Request) bool {
			var deletes atomic.Int32
			return func(r *http.Request) bool {
				return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/servicemonitors/") && deletes.Add(1) == 2
			}
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := cluster.NewNamespace(t, "monfault")
			f := cluster.InstallFixture(t, "eck-3.5.0-all-in-one.yaml", ns)
			t.Cleanup(func() { cluster.RemoveInstall(t, f) })
			mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor-label", "release=p", "--interval", "1m", "--scrape-timeout", "20s"))
			var failed atomic.Bool
			drop := func(next http.RoundTripper) http.RoundTripper {
				return roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if isWrite(r) && tc.drop(r) && failed.CompareAndSwap(false, true) {
						return nil, errors.New("connection reset by peer")
					}
					return next.RoundTrip(r)
				})
			}
			r := cluster.RunWith(t, cluster.Kubeconfig, drop, "enable", "-n", ns, "--monitor", "podmonitor")
			framework.ExpectOneLineRefusal(t, r, "step 5/5 (PodMonitor) failed, steps 1-4 are applied; fix this and rerun to complete")
			if !failed.Load() {
				t.Fatal("no request was dropped")
			}
			// Both monitors are ours now where the delete failed: a plain
			// enable cannot tell which was being switched to, and says so.
			if tc.name == "ServiceMonitor delete" {
				before := cluster.Snapshot(t, ns)
				framework.ExpectOneLineRefusal(t, cluster.Run(t, "enable", "-n", ns), "a switch of --monitor that did not finish): rerun with --monitor servicemonitor or --monitor podmonitor to keep one; nothing was changed")
				framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
			}
			r = mustSucceed(t, cluster.Run(t, "enable", "-n", ns, "--monitor", "podmonitor"))
			if got, want := monitorState(t, ns), "PodMonitor/secret reader objects 4"; got != want {
				t.Errorf("rerun left %s, want %s:\n%s", got, want, r.Stdout)
			}
			before := cluster.Snapshot(t, ns)
			mustSucceed(t, cluster.Run(t, "enable", "-n", ns))
			framework.AssertUnchanged(t, before, cluster.Snapshot(t, ns))
		})
	}
}
