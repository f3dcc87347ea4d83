//go:build e2e

package e2e

import (
	"testing"
	"time"
)

// TestSidecar: ECK 2.15.0 behind the kube-rbac-proxy sidecar the plugin
// adds (v0.19.1, run with the args of the patched StatefulSet).
func TestSidecar(t *testing.T) {
	start := time.Now()
	s := newSecuredOperator(t, "2.15.0")

	ok := t.Run("3 enable, self-signed, through kube-rbac-proxy", func(t *testing.T) {
		s.enableSelfSigned(t, "kube-rbac-proxy").expect(t, "operator.mode", "pass", "sidecar", "")
	})
	if !ok {
		return
	}

	var servingSerial string
	ok = t.Run("4 use-cert, verified TLS", func(t *testing.T) {
		servingSerial = s.useCertVerified(t)
	})
	if !ok {
		return
	}

	t.Run("5 rotation without restart (kube-rbac-proxy)", func(t *testing.T) {
		rotation(t, s.op, s.mon, "kube-rbac-proxy", s.ca, s.svcName, renewWithUseCert(s.dir, s.useCert), servingSerial)
	})
	t.Logf("TestSidecar took %s", time.Since(start).Round(time.Second))
}
