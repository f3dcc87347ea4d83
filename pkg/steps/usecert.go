package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// UseCertOptions are the choices of use-cert.
type UseCertOptions struct {
	// Secret is the TLS secret in the operator's namespace.
	Secret string
	// SelfSigned goes back to the operator's generated certificate.
	SelfSigned bool
	// CertPEM and KeyPEM, when set (--cert/--key), create or update Secret.
	CertPEM, KeyPEM []byte
	// SecretRead is Secret when the caller has read it already (use-cert
	// --issuer reads cert-manager's Secret for its ca.crt): not read again.
	SecretRead *corev1.Secret
	// CASecret in PrometheusNamespace holds ca.crt for Prometheus.
	CASecret            string
	PrometheusNamespace string
	// CAPEM, when set (--ca), creates or updates CASecret.
	CAPEM      []byte
	CAMountDir string
	Now        time.Time
}

// CertPlan is the steps of use-cert and what the certificate checks found.
type CertPlan struct {
	Steps    []*apply.Step
	Report   *certs.Report
	Warnings []string
}

// PlanUseCert checks the certificate, then plans the secrets and the
// enable steps with the certificate configured. Nothing is written.
func PlanUseCert(ctx context.Context, c kube.Clients, op *operator.Operator, o EnableOptions, u UseCertOptions) (*CertPlan, error) {
	plan := &CertPlan{}
	o.Cert = CertConfig{}
	var secretStep *apply.Step
	if !u.SelfSigned {
		certPEM, keyPEM := u.CertPEM, u.KeyPEM
		ref := fmt.Sprintf("secret %s/%s", op.Namespace(), u.Secret)
		if certPEM == nil {
			var err error
			if certPEM, keyPEM, err = readTLSSecret(ctx, c, op.Namespace(), u.Secret, u.SecretRead); err != nil {
				return nil, err
			}
		}
		caPEM := u.CAPEM
		if u.CASecret != "" && caPEM == nil {
			var err error
			if caPEM, err = readCASecret(ctx, c, u.PrometheusNamespace, u.CASecret); err != nil {
				return nil, err
			}
		}
		serviceDNS := patches.ServiceDNSName(op.Name(), op.Namespace())
		report, err := certs.Check(certPEM, keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: caPEM, Now: u.Now})
		if err != nil {
			return nil, fmt.Errorf("%s: %w; nothing was changed", ref, err)
		}
		plan.Report = report
		plan.Warnings = append(plan.Warnings, report.Warnings...)
		if report.TrustedBy == "" && u.CASecret == "" {
			plan.Warnings = append(plan.Warnings, certs.UnknownCAWarning(report))
		}

		secretStep = &apply.Step{Title: "Secrets"}
		if u.CertPEM != nil {
			a, err := planSecret(ctx, c, patches.TLSSecret(op.Namespace(), u.Secret, certPEM, keyPEM))
			if err != nil {
				return nil, err
			}
			secretStep.Actions = append(secretStep.Actions, a)
		}
		if u.CAPEM != nil {
			a, err := planSecret(ctx, c, patches.CASecret(u.PrometheusNamespace, u.CASecret, caPEM))
			if err != nil {
				return nil, err
			}
			secretStep.Actions = append(secretStep.Actions, a)
		}
		if len(secretStep.Actions) == 0 {
			secretStep = nil
		}
		o.Cert = CertConfig{Secret: u.Secret, ServiceMonitorTLS: patches.ServiceMonitorTLS{CASecret: u.CASecret, CAMountDir: u.CAMountDir}}
	}
	enable, err := PlanEnable(ctx, c, op, o)
	if err != nil {
		return nil, err
	}
	if secretStep != nil {
		plan.Steps = append(plan.Steps, secretStep)
	}
	plan.Steps = append(plan.Steps, enable...)
	return plan, nil
}

// readTLSSecret reads the TLS secret, unless read is it already, and
// returns its certificate and key.
func readTLSSecret(ctx context.Context, c kube.Clients, namespace, name string, read *corev1.Secret) ([]byte, []byte, error) {
	ref := fmt.Sprintf("secret %s/%s", namespace, name)
	s := read
	if s == nil {
		var err error
		s, err = c.Kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("%s not found: create it with 'kubectl create secret tls %s -n %s --cert=FILE --key=FILE', or pass --cert and --key", ref, name, namespace)
		}
		if err != nil {
			return nil, nil, kube.ReadError(ref, err)
		}
	}
	if s.Type != corev1.SecretTypeTLS {
		return nil, nil, fmt.Errorf("%s has type %q, want %q: recreate it with 'kubectl create secret tls'", ref, s.Type, corev1.SecretTypeTLS)
	}
	for _, key := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if len(s.Data[key]) == 0 {
			return nil, nil, fmt.Errorf("%s has no %s: recreate it with 'kubectl create secret tls'", ref, key)
		}
	}
	return s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey], nil
}

func readCASecret(ctx context.Context, c kube.Clients, namespace, name string) ([]byte, error) {
	ref := fmt.Sprintf("CA secret %s/%s", namespace, name)
	s, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s not found: pass --ca FILE to create it, or create it with key %s", ref, patches.CAKey)
	}
	if err != nil {
		return nil, kube.ReadError(ref, err)
	}
	if len(s.Data[patches.CAKey]) == 0 {
		return nil, fmt.Errorf("%s has no %s, which Prometheus reads", ref, patches.CAKey)
	}
	return s.Data[patches.CAKey], nil
}

func planSecret(ctx context.Context, c kube.Clients, desired *corev1ac.SecretApplyConfiguration) (*apply.Action, error) {
	secrets := c.Kube.CoreV1().Secrets(*desired.Namespace)
	ref := fmt.Sprintf("Secret %s/%s", *desired.Namespace, *desired.Name)
	live, err := apply.Observe(ctx, ref, *desired.Name, secrets.Get, corev1ac.ExtractSecret)
	if err != nil {
		return nil, err
	}
	return apply.NewAction("Secret", *desired.Namespace, *desired.Name, desired, live.Object(), live.Owned,
		func(ctx context.Context, opts metav1.ApplyOptions) (runtime.Object, error) {
			return secrets.Apply(ctx, desired, opts)
		})
}
