//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// playTokensController plays kube-controller-manager's tokens controller in
// namespace ns until the test ends: a Secret of type
// kubernetes.io/service-account-token gets its ServiceAccount's token, the
// API server's CA and the namespace, as the controller writes them. What
// differs: the token is a TokenRequest token bound to the Secret (the
// controller signs a legacy token with a key this control plane does not
// expose); it authenticates the ServiceAccount the same way, and dies with
// the Secret as a legacy one does.
func playTokensController(t *testing.T, ns string) {
	t.Helper()
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c.Err() == nil {
			if err := fillTokenSecrets(c, ns); err != nil && c.Err() == nil {
				t.Logf("tokens controller: %v", err)
			}
			select {
			case <-c.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func fillTokenSecrets(c context.Context, ns string) error {
	secrets := cluster.Kube.CoreV1().Secrets(ns)
	list, err := secrets.List(c, metav1.ListOptions{FieldSelector: "type=" + string(corev1.SecretTypeServiceAccountToken)})
	if err != nil {
		return err
	}
	for i := range list.Items {
		s := &list.Items[i]
		sa := s.Annotations[corev1.ServiceAccountNameKey]
		if len(s.Data[corev1.ServiceAccountTokenKey]) > 0 || sa == "" {
			continue
		}
		account, err := cluster.Kube.CoreV1().ServiceAccounts(ns).Get(c, sa, metav1.GetOptions{})
		if err != nil {
			continue // the controller waits for the ServiceAccount too
		}
		tr, err := cluster.Kube.CoreV1().ServiceAccounts(ns).CreateToken(c, sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			// A legacy token never expires; a year outlives any run (make
			// demo runs until Ctrl-C).
			ExpirationSeconds: ptr.To[int64](365 * 24 * 3600),
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: s.Name, UID: s.UID},
		}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("token for secret %s/%s: %w", ns, s.Name, err)
		}
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[corev1.ServiceAccountTokenKey] = []byte(tr.Status.Token)
		s.Data[corev1.ServiceAccountRootCAKey] = cluster.Config.CAData
		s.Data[corev1.ServiceAccountNamespaceKey] = []byte(ns)
		s.Annotations[corev1.ServiceAccountUIDKey] = string(account.UID)
		if _, err := secrets.Update(c, s, metav1.UpdateOptions{FieldManager: "kube-controller-manager"}); err != nil {
			return fmt.Errorf("secret %s/%s: %w", ns, s.Name, err)
		}
	}
	return nil
}
