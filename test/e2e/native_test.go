//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// TestNative: ECK 3.5.0 serves its metrics itself (metrics-secure). The
// cases run in order on one operator and one Prometheus, each starting
// from where the previous one left.
func TestNative(t *testing.T) {
	start := time.Now()
	s := newSecuredOperator(t, "3.5.0")
	op, mon, ca, svcName := s.op, s.mon, s.ca, s.svcName

	ok := t.Run("1 enable, self-signed", func(t *testing.T) {
		s.enableSelfSigned(t, "manager")
	})
	if !ok {
		return
	}

	var servingSerial string
	ok = t.Run("2 use-cert, verified TLS", func(t *testing.T) {
		servingSerial = s.useCertVerified(t)
	})
	if !ok {
		return
	}

	ok = t.Run("5 rotation without restart", func(t *testing.T) {
		servingSerial = rotation(t, op, mon, "manager", ca, svcName, renewWithUseCert(s.dir, s.useCert), servingSerial)
	})
	if !ok {
		return
	}

	// A Secret cert-manager renews is served without a restart,
	// and status (with --probe) finds the served certificate is the Secret's.
	ok = t.Run("5b renewal as cert-manager writes it", func(t *testing.T) {
		rotation(t, op, mon, "manager", ca, svcName, renewAsCertManager(op.ns, "eck-metrics-tls"), servingSerial)
		rep, r := probe(t, op, mon, "prometheus")
		if r.err != nil {
			t.Errorf("status failed after the renewal: %v\n%s", rep.failed(), r)
		}
		rep.expect(t, "live-endpoint.served-matches-secret", "pass", "", "")
	})
	if !ok {
		return
	}

	ok = t.Run("6a Prometheus without the /metrics grant: 403", func(t *testing.T) {
		mon.serviceAccount(t, "prometheus-nogrant", false)
		mon.patchSpec(t, map[string]any{"serviceAccountName": "prometheus-nogrant"})
		mon.waitPod(t, "ServiceAccount prometheus-nogrant", serviceAccount("prometheus-nogrant"))
		before := time.Now()
		tg := waitTarget(t, mon, op, "target down with 403", func(tg target) bool {
			return tg.Health == "down" && tg.LastScrape.After(before) && strings.Contains(tg.LastError, "403")
		})
		t.Logf("Prometheus: %s: %s", tg.ScrapeURL, tg.LastError)
		rep, r := probe(t, op, mon, "prometheus-nogrant")
		if r.err == nil {
			t.Error("status exit 0 although Prometheus gets 403")
		}
		rep.expect(t, "prometheus-access.metrics", "fail", "403", "--non-resource-url=/metrics")
		rep.expect(t, "live-endpoint.token", "fail", "403", "")
	})
	if !ok {
		return
	}

	ok = t.Run("6b operator's auth binding deleted: 500", func(t *testing.T) {
		if err := cluster.Kube.RbacV1().ClusterRoleBindings().Delete(cluster.Context(t), "elastic-operator-metrics-auth-rolebinding", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		cluster.WaitAllowed(t, "system:serviceaccount:"+op.ns+":elastic-operator",
			nil, &authorizationv1.ResourceAttributes{Group: "authentication.k8s.io", Resource: "tokenreviews", Verb: "create"}, false)
		// Back to the granted ServiceAccount: a new Prometheus pod, whose new
		// token the operator has not authenticated (and cached) yet.
		mon.patchSpec(t, map[string]any{"serviceAccountName": "prometheus"})
		mon.waitPod(t, "ServiceAccount prometheus", serviceAccount("prometheus"))
		before := time.Now()
		tg := waitTarget(t, mon, op, "target down with 500", func(tg target) bool {
			return tg.Health == "down" && tg.LastScrape.After(before) && strings.Contains(tg.LastError, "500")
		})
		t.Logf("Prometheus: %s: %s", tg.ScrapeURL, tg.LastError)
		rep, r := probe(t, op, mon, "prometheus")
		if r.err == nil {
			t.Error("status exit 0 although Prometheus gets 500")
		}
		rep.expect(t, "rbac.tokenreviews", "fail", "tokenreviews", "")
		rep.expect(t, "live-endpoint.token", "fail", "500", "")
	})
	if !ok {
		return
	}

	t.Run("6c disable: no secure endpoint left", func(t *testing.T) {
		url := "https://" + op.metricsAddr(t) + "/metrics"
		pid := op.k.proc("manager").pid()
		mustPlugin(t, "disable", "-n", op.ns)
		// The ServiceMonitor is gone: Prometheus drops the job.
		err := wait.PollUntilContextTimeout(cluster.Context(t), time.Second, scrapeTimeout, true, func(context.Context) (bool, error) {
			tgs, err := mon.targets(op.ns)
			return err == nil && len(tgs) == 0, nil
		})
		if err != nil {
			t.Fatalf("Prometheus still has targets of serviceMonitor/%s/\n%s", op.ns, mon.k.logs())
		}
		// The pod is recreated without metrics; nothing listens any more.
		p := op.waitRunning(t, "manager")
		err = wait.PollUntilContextTimeout(cluster.Context(t), time.Second, 60*time.Second, true, func(context.Context) (bool, error) {
			p = op.k.proc("manager")
			return p != nil && p.pid() != pid && !listening(strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/metrics")), nil
		})
		if err != nil {
			t.Fatalf("the operator still serves %s after disable\n%s", url, op.k.logs())
		}
		rep, r := status(t, "-n", op.ns, "--probe", "--metrics-url", url, "--prometheus-sa", mon.ns+"/prometheus")
		if r.err == nil {
			t.Error("status exit 0 after disable")
		}
		rep.expect(t, "operator.mode", "fail", "not secured", "")
		rep.expect(t, "live-endpoint.reachable", "fail", "", "")
	})
	t.Logf("TestNative took %s", time.Since(start).Round(time.Second))
}

func mountsSecret(name string) func(corev1.PodTemplateSpec) bool {
	return func(p corev1.PodTemplateSpec) bool {
		for _, v := range p.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == name {
				return true
			}
		}
		return false
	}
}

func serviceAccount(name string) func(corev1.PodTemplateSpec) bool {
	return func(p corev1.PodTemplateSpec) bool { return p.Spec.ServiceAccountName == name }
}
