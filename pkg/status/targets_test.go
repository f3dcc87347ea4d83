package status

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const unitPool = "serviceMonitor/" + unitNS + "/" + unitName + "/0"

// Prometheus 3.x's lastError texts, as its scrape loop writes them.
const (
	lastError401      = "server returned HTTP status 401 Unauthorized"
	lastError403      = "server returned HTTP status 403 Forbidden"
	lastError500      = "server returned HTTP status 500 Internal Server Error"
	lastErrorUnknown  = `Get "https://10.244.0.12:8081/metrics": tls: failed to verify certificate: x509: certificate signed by unknown authority`
	lastErrorName     = `Get "https://10.244.0.12:8081/metrics": tls: failed to verify certificate: x509: certificate is valid for elastic-operator-metrics.elastic-system.svc, not elastic-operator.elastic-system.svc`
	lastErrorRefused  = `Get "https://10.244.0.12:8081/metrics": dial tcp 10.244.0.12:8081: connect: connection refused`
	lastErrorDeadline = `Get "https://10.244.0.12:8081/metrics": context deadline exceeded`
	lastErrorIOTime   = `Get "https://10.244.0.12:8081/metrics": dial tcp 10.244.0.12:8081: i/o timeout`
)

// targetsBody is /api/v1/targets?state=any&scrapePool=POOL in Prometheus
// 3.x's shape: one active target of the pool (none when health is ""),
// and the pool's count of dropped targets (no entry when dropped < 0: the
// pool is not in the loaded config).
func targetsBody(pool, health, lastError string, dropped int) string {
	active := ""
	if health != "" {
		active = fmt.Sprintf(`{"discoveredLabels":{"__address__":"10.244.0.12:8081","__meta_kubernetes_namespace":"elastic-system","__meta_kubernetes_service_name":"elastic-operator-metrics","__meta_kubernetes_endpoint_port_name":"https","__metrics_path__":"/metrics","__scheme__":"https","__scrape_interval__":"30s","__scrape_timeout__":"10s","job":"%[1]s"},"labels":{"container":"manager","endpoint":"https","instance":"10.244.0.12:8081","job":"elastic-operator-metrics","namespace":"elastic-system","pod":"elastic-operator-0","service":"elastic-operator-metrics"},"scrapePool":"%[1]s","scrapeUrl":"https://10.244.0.12:8081/metrics","globalUrl":"https://10.244.0.12:8081/metrics","lastError":%[2]q,"lastScrape":"2026-05-31T23:59:48.123456789Z","lastScrapeDuration":0.002871234,"health":%[3]q,"scrapeInterval":"30s","scrapeTimeout":"10s"}`, pool, lastError, health)
	}
	counts := ""
	if dropped >= 0 {
		counts = fmt.Sprintf("%q:%d", pool, dropped)
	}
	return fmt.Sprintf(`{"status":"success","data":{"activeTargets":[%s],"droppedTargets":[],"droppedTargetCounts":{%s}}}`, active, counts)
}

// cannedAsker answers every Prometheus with body, or fails with err; it
// counts the questions and records the pools asked for.
type cannedAsker struct {
	body  string
	err   error
	asked []string
}

func (a *cannedAsker) askTargets(_ context.Context, p *prometheusObject, pool string) ([]byte, error) {
	who := "url"
	if p != nil {
		who = p.Ref()
	}
	a.asked = append(a.asked, who+" "+pool)
	if a.err != nil {
		return nil, a.err
	}
	return []byte(a.body), nil
}

// answer makes every Prometheus answer with body.
func (e *unitEnv) answer(body string) *cannedAsker {
	a := &cannedAsker{body: body}
	e.opts.askTargets = a
	return a
}

// selectedBy stores a Prometheus that selects our monitor and has it
// answer about one target of our pool.
func (e *unitEnv) selectedBy(t *testing.T, health, lastError string) *cannedAsker {
	t.Helper()
	e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
	return e.answer(targetsBody(unitPool, health, lastError, 3))
}

// bindings sets our ServiceMonitor's status.bindings as prometheus-operator
// writes them with StatusForConfigurationResources.
func (e *unitEnv) bindings(t *testing.T, status monitoringv1.ConditionStatus, reason, message string) {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	sm, err := e.dyn.Resource(gvr).Namespace(unitNS).Get(context.Background(), unitName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := monitoringv1.ConfigResourceStatus{Bindings: []monitoringv1.WorkloadBinding{{Group: "monitoring.coreos.com", Resource: "prometheuses", Namespace: "monitoring", Name: "k8s",
		Conditions: []monitoringv1.ConfigResourceCondition{{Type: monitoringv1.Accepted, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.NewTime(unitNow)}}}}}
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(sm.Object, raw, "status"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dyn.Resource(gvr).Namespace(unitNS).Update(context.Background(), sm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// targetsCases are the prometheus-targets cases TestEachCheck runs.
func targetsCases() []struct {
	name    string
	id      CheckID
	breakIt func(t *testing.T, e *unitEnv)
	want    Outcome
	message string
} {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "services/proxy"}, "prometheus-operated", errors.New("User \"jane\" cannot get resource \"services/proxy\" in API group \"\" in the namespace \"monitoring\""))
	return []struct {
		name    string
		id      CheckID
		breakIt func(t *testing.T, e *unitEnv)
		want    Outcome
		message string
	}{
		{"answered", TargetsAnswered, func(t *testing.T, e *unitEnv) { e.selectedBy(t, "up", "") }, Pass, "Prometheus monitoring/k8s answered"},
		{"proxy forbidden", TargetsAnswered, func(t *testing.T, e *unitEnv) {
			e.selectedBy(t, "up", "").err = &askError{askForbidden, forbidden}
		}, Warn, "Prometheus monitoring/k8s: you may not use the API server's service proxy"},
		{"no selecting Prometheus", TargetsAnswered, nil, Skip, "Prometheus is not served"},
		{"pool with a target", TargetsPool, func(t *testing.T, e *unitEnv) { e.selectedBy(t, "up", "") }, Pass, "1 target(s) in " + unitPool},
		{"pool absent", TargetsPool, func(t *testing.T, e *unitEnv) {
			e.selectedBy(t, "", "")
			e.answer(targetsBody("serviceMonitor/monitoring/other/0", "up", "", 0))
		}, Fail, "Prometheus monitoring/k8s has no scrape pool " + unitPool + " in its loaded config: not selected, rejected by prometheus-operator, or not reloaded yet"},
		{"all targets dropped", TargetsPool, func(t *testing.T, e *unitEnv) { e.selectedBy(t, "", "") }, Fail, "discovered 3 target(s), relabeling dropped all"},
		{"up", TargetsUp, func(t *testing.T, e *unitEnv) { e.selectedBy(t, "up", "") }, Pass, "Prometheus monitoring/k8s: https://10.244.0.12:8081/metrics up (last scrape 12s ago, took 3ms)"},
		{"down with 403", TargetsUp, func(t *testing.T, e *unitEnv) { e.selectedBy(t, "down", lastError403) }, Fail, "down: " + lastError403},
		{"not scraped yet", TargetsUp, func(t *testing.T, e *unitEnv) { e.selectedBy(t, "unknown", "") }, Warn, "not scraped yet"},
	}
}

// Each lastError Prometheus 3.x writes maps to its cause and fix.
func TestScrapeErrorCauses(t *testing.T) {
	reader := "run: kubectl create clusterrole eck-metrics-reader --verb=get --non-resource-url=/metrics && kubectl create clusterrolebinding eck-metrics-reader-prometheus-k8s --clusterrole=eck-metrics-reader --serviceaccount=monitoring:prometheus-k8s"
	tests := []struct {
		lastError, cause, hint string
	}{
		{lastError401, "no token, or one the API server does not accept", "kubectl eck-metrics enable -n elastic-system"},
		{lastError403, "ServiceAccount monitoring/prometheus-k8s, which Prometheus scrapes with, lacks get on /metrics", reader},
		{lastError500, "may not create TokenReviews or SubjectAccessReviews", "run: kubectl eck-metrics enable -n elastic-system (it restores the operator's auth ClusterRole"},
		{lastErrorUnknown, "does not trust the CA of the served certificate", "run: kubectl eck-metrics use-cert -n elastic-system --secret SECRET --ca-secret NAME --ca FILE"},
		{lastErrorName, "does not name the host Prometheus verifies", "issue the certificate for elastic-operator-metrics.elastic-system.svc, then run: kubectl eck-metrics use-cert -n elastic-system"},
		{lastErrorRefused, "cannot reach the endpoint", "NetworkPolicies admit Prometheus on the metrics port (network-policy.metrics-port)"},
		{lastErrorDeadline, "cannot reach the endpoint", "operator pod is Ready (statefulset.rollout)"},
		{lastErrorIOTime, "cannot reach the endpoint", "the Service's target port is the metrics port (service.target-port)"},
	}
	for _, tc := range tests {
		t.Run(tc.lastError, func(t *testing.T) {
			e := newUnitEnv(t)
			e.selectedBy(t, "down", tc.lastError)
			c := runOnly(t, e, TargetsUp)
			if c.Outcome != Fail || !strings.Contains(c.Message, tc.lastError) || !strings.Contains(c.Message, tc.cause) || !strings.Contains(c.Hint, tc.hint) {
				t.Errorf("%s %q hint %q, want fail with %q, %q and hint %q", c.Outcome, c.Message, c.Hint, tc.lastError, tc.cause, tc.hint)
			}
		})
	}
}

// The pool's absence is explained by the ServiceMonitor's binding where
// prometheus-operator writes it.
func TestAbsentPoolBindings(t *testing.T) {
	absent := func(t *testing.T) *unitEnv {
		e := newUnitEnv(t)
		e.selectedBy(t, "", "")
		e.answer(targetsBody("serviceMonitor/monitoring/other/0", "up", "", 0))
		return e
	}
	t.Run("rejected", func(t *testing.T) {
		e := absent(t)
		e.bindings(t, monitoringv1.ConditionFalse, "InvalidConfiguration", "it accesses file system via bearer token file which Prometheus specification prohibits")
		c := runOnly(t, e, TargetsPool)
		want := "prometheus-operator rejected ServiceMonitor elastic-system/elastic-operator for prometheuses monitoring/k8s: InvalidConfiguration: it accesses file system via bearer token file"
		if c.Outcome != Fail || !strings.Contains(c.Message, want) || c.Hint == "" {
			t.Errorf("%s %q, want fail with %q", c.Outcome, c.Message, want)
		}
	})
	t.Run("accepted, not reloaded", func(t *testing.T) {
		e := absent(t)
		e.bindings(t, monitoringv1.ConditionTrue, "", "")
		c := runOnly(t, e, TargetsPool)
		if c.Outcome != Warn || !strings.Contains(c.Message, "accepted ServiceMonitor elastic-system/elastic-operator for prometheuses monitoring/k8s, but Prometheus has not reloaded it yet") {
			t.Errorf("%s %q, want warn: accepted, not reloaded", c.Outcome, c.Message)
		}
	})
}

// A Prometheus that cannot be asked only warns, and says what would let
// status ask it.
func TestTargetsUnansweredWarns(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		message string
		hint    string
	}{
		{"proxy forbidden", &askError{askForbidden, apierrors.NewForbidden(schema.GroupResource{Resource: "services/proxy"}, "prometheus-operated", errors.New("no"))},
			"you may not use the API server's service proxy", "run status as a user who may get services/proxy in namespace monitoring, or kubectl port-forward -n monitoring svc/prometheus-operated 9090:web, then pass --prometheus-url http://127.0.0.1:9090"},
		{"timeout", &askError{askTimedOut, errors.New("no answer within 5s")}, "no answer within 5s", "check that Prometheus monitoring/k8s's pods are Ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newUnitEnv(t)
			e.selectedBy(t, "up", "").err = tc.err
			e.opts.Checks = []CheckID{TargetsAnswered, TargetsPool, TargetsUp}
			r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
			if !r.Summary.OK {
				t.Errorf("the report failed: %+v", r.Checks)
			}
			c := r.Checks[0]
			if c.Outcome != Warn || !strings.Contains(c.Message, tc.message) || !strings.Contains(c.Hint, tc.hint) {
				t.Errorf("%s %q hint %q, want warn with %q hint %q", c.Outcome, c.Message, c.Hint, tc.message, tc.hint)
			}
			for _, c := range r.Checks[1:] {
				if c.Outcome != Skip {
					t.Errorf("%s: %s, want skip", c.ID, c.Outcome)
				}
			}
		})
	}
}

// --prometheus-url: Prometheus's API over plain HTTP, with a bounded wait;
// anything else is a one-line warning.
func TestPrometheusURL(t *testing.T) {
	var requests atomic.Int32
	serve := func(t *testing.T, h http.HandlerFunc) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			h(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	run := func(t *testing.T, url string) *Report {
		e := newUnitEnv(t)
		e.opts.askTargets = nil
		e.opts.PrometheusURL = url
		e.opts.Checks = []CheckID{TargetsAnswered, TargetsUp}
		return mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	}
	t.Run("a Prometheus", func(t *testing.T) {
		url := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/v1/targets" || r.URL.Query().Get("state") != "any" || r.URL.Query().Get("scrapePool") != unitPool {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(targetsBody(unitPool, "down", lastError403, 3)))
		})
		r := run(t, url)
		if c := r.Checks[0]; c.Outcome != Pass || c.Message != "Prometheus at "+url+" answered" {
			t.Errorf("answered: %s %q", c.Outcome, c.Message)
		}
		if c := r.Checks[1]; c.Outcome != Fail || !strings.Contains(c.Message, lastError403) || !strings.Contains(c.Hint, "--serviceaccount=NAMESPACE:SERVICEACCOUNT") {
			t.Errorf("up: %s %q hint %q", c.Outcome, c.Message, c.Hint)
		}
	})
	for _, tc := range []struct {
		name, message string
		h             http.HandlerFunc
	}{
		{"HTML", "not a Prometheus: the answer is not Prometheus's API", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html><body>Grafana</body></html>"))
		}},
		{"404", "not a Prometheus: GET", http.NotFound},
		{"JSON without success", "not a Prometheus", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"no"}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, serve(t, tc.h))
			if c := r.Checks[0]; c.Outcome != Warn || !strings.Contains(c.Message, tc.message) || strings.Contains(c.Message, "\n") || c.Hint == "" {
				t.Errorf("%s %q hint %q, want a one-line warning with %q", c.Outcome, c.Message, c.Hint, tc.message)
			}
			if !r.Summary.OK {
				t.Error("the report failed for an unanswering Prometheus")
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		if c := run(t, url).Checks[0]; c.Outcome != Warn || !strings.Contains(c.Message, "unreachable") {
			t.Errorf("%s %q, want warn: unreachable", c.Outcome, c.Message)
		}
	})
	t.Run("no answer in time", func(t *testing.T) {
		release := make(chan struct{})
		url := serve(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		start := time.Now()
		c := run(t, url).Checks[0]
		if c.Outcome != Warn || !strings.Contains(c.Message, "no answer within 5s") {
			t.Errorf("%s %q, want warn: no answer", c.Outcome, c.Message)
		}
		if took := time.Since(start); took > askTimeout+3*time.Second {
			t.Errorf("took %s, want about %s", took, askTimeout)
		}
	})
}

// One question per selecting Prometheus, for our monitor's pool; none
// without one.
func TestTargetsAskOncePerPrometheus(t *testing.T) {
	e := newUnitEnv(t)
	a := e.answer(targetsBody(unitPool, "up", "", 0))
	mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	if len(a.asked) != 0 {
		t.Errorf("asked %v without a selecting Prometheus", a.asked)
	}
	e = newUnitEnv(t)
	e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
	e.prometheus(t, "PrometheusAgent", "monitoring", "agent", selectAll)
	e.prometheus(t, "Prometheus", "other", "none", withSpec(selectAll, "serviceMonitorSelector", map[string]any{"matchLabels": map[string]any{"x": "y"}}))
	a = e.answer(targetsBody(unitPool, "up", "", 0))
	mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	want := []string{"Prometheus monitoring/k8s " + unitPool, "PrometheusAgent monitoring/agent " + unitPool}
	if strings.Join(a.asked, ",") != strings.Join(want, ",") {
		t.Errorf("asked %v, want %v", a.asked, want)
	}
}

// Without --check, a Prometheus that did not answer is one line: the
// category's first says why, the checks after it are not listed.
func TestTargetsUnansweredIsOneLine(t *testing.T) {
	e := newUnitEnv(t)
	e.selectedBy(t, "up", "").err = &askError{askTimedOut, errors.New("no answer within 5s")}
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	var got []string
	for _, c := range r.Checks {
		if c.Category == CategoryTargets {
			got = append(got, string(c.ID)+" "+string(c.Outcome))
		}
	}
	if want := []string{"prometheus-targets.answered warn"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("prometheus-targets reported %v, want %v", got, want)
	}
}
