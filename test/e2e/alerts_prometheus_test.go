//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
)

// ruleState is one rule of Prometheus's /api/v1/rules.
type ruleState struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	Alerts    []struct {
		Labels map[string]string `json:"labels"`
		State  string            `json:"state"`
	} `json:"alerts"`
}

// rules are the rules of group, as Prometheus evaluates them.
func (m *monitoring) rules(group string) (map[string]ruleState, error) {
	var data struct {
		Groups []struct {
			Name  string      `json:"name"`
			File  string      `json:"file"`
			Rules []ruleState `json:"rules"`
		} `json:"groups"`
	}
	if err := m.get("/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	out := map[string]ruleState{}
	for _, g := range data.Groups {
		if g.Name == group {
			for _, r := range g.Rules {
				out[r.Name] = r
			}
		}
	}
	return out, nil
}

// waitRules polls the group's rules until ok holds, and fails with what
// Prometheus and prometheus-operator said.
func waitRules(t *testing.T, mon *monitoring, what string, ok func(map[string]ruleState) bool) map[string]ruleState {
	t.Helper()
	var last map[string]ruleState
	var lastErr error
	err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, scrapeTimeout, true, func(context.Context) (bool, error) {
		last, lastErr = mon.rules("eck-operator-metrics")
		return lastErr == nil && ok(last), nil
	})
	if err != nil {
		raw, _ := json.MarshalIndent(last, "", "  ")
		t.Fatalf("Prometheus: %s: not within %s (rules %s; error %v)\n%s\n%s--- prometheus-operator ---\n%s",
			what, scrapeTimeout, raw, lastErr, mon.overview(), mon.k.logs(), promOperator.tail(20))
	}
	return last
}

// TestAlertsLoadedByPrometheus: the PrometheusRule of enable --alerts,
// selected by the Prometheus's ruleSelector as its monitor is, is loaded by
// the real prometheus-operator into the real Prometheus and evaluated
// there: healthy, nothing pending while the target is up; when Prometheus
// loses its /metrics grant (403), the target-down alert goes pending on the
// operator's own job (so the job label matches what prometheus-operator
// generates) and the absent alert stays inactive. status finds the rule
// loaded.
func TestAlertsLoadedByPrometheus(t *testing.T) {
	op := newOperator(t, "3.5.0")
	monNS := "monitoring-" + rand.String(5)
	// Applied before the Prometheus exists: prometheus-operator writes the
	// rule files before the Prometheus pod starts (the test's kubelet lays
	// volumes out at the start).
	before := time.Now()
	mustPlugin(t, "enable", "-n", op.ns, "--monitor-label", "e2e-prometheus="+monNS, "--alerts")
	mon := newMonitoringWith(t, monNS, "e2e", "e2e-prometheus", monNS, map[string]any{
		"ruleSelector":          map[string]any{"matchLabels": map[string]any{"e2e-prometheus": monNS}},
		"ruleNamespaceSelector": map[string]any{},
	})
	op.waitRunning(t, "manager")
	waitUp(t, mon, op, before)

	alerts := []string{"EckOperatorMetricsTargetAbsent", "EckOperatorMetricsTargetDown", "EckOperatorMetricsScrapeRejected"}
	waitRules(t, mon, "the three alerts loaded, evaluated and inactive", func(rules map[string]ruleState) bool {
		for _, a := range alerts {
			if r, ok := rules[a]; !ok || r.Health != "ok" || r.State != "inactive" {
				return false
			}
		}
		return len(rules) == len(alerts)
	})
	rep, r := status(t, "-n", op.ns, "--check", "prometheus-selection.rules")
	if r.err != nil {
		t.Errorf("status --check prometheus-selection.rules failed: %s", r)
	}
	rep.expect(t, "prometheus-selection.rules", "pass", "Prometheus "+monNS+"/e2e selects PrometheusRule "+op.ns+"/elastic-operator", "")

	// 403: the pod stays Ready, every scrape fails. Without kube-state-metrics
	// the failing scrape is reported as down (pending for its 10m).
	mon.serviceAccount(t, "prometheus-nogrant", false)
	mon.patchSpec(t, map[string]any{"serviceAccountName": "prometheus-nogrant"})
	mon.waitPod(t, "ServiceAccount prometheus-nogrant", serviceAccount("prometheus-nogrant"))
	denied := time.Now()
	waitTarget(t, mon, op, "target down with 403", func(tg target) bool {
		return tg.Health == "down" && tg.LastScrape.After(denied) && strings.Contains(tg.LastError, "403")
	})
	rules := waitRules(t, mon, "EckOperatorMetricsTargetDown pending on the operator's job", func(rules map[string]ruleState) bool {
		return rules["EckOperatorMetricsTargetDown"].State == "pending"
	})
	down := rules["EckOperatorMetricsTargetDown"]
	if len(down.Alerts) != 1 || down.Alerts[0].Labels["job"] != "elastic-operator-metrics" || down.Alerts[0].Labels["namespace"] != op.ns {
		t.Errorf("EckOperatorMetricsTargetDown alerts %+v, want one on job elastic-operator-metrics in %s", down.Alerts, op.ns)
	}
	if s := rules["EckOperatorMetricsTargetAbsent"].State; s != "inactive" {
		t.Errorf("EckOperatorMetricsTargetAbsent is %s while the target exists", s)
	}
}
