package steps

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// IssuerOptions are the choices of use-cert --issuer.
type IssuerOptions struct {
	Issuer string
	// IssuerKind is Issuer (in the operator's namespace) or ClusterIssuer.
	IssuerKind            string
	Duration, RenewBefore time.Duration
}

// IssuerPlan is the Certificate step of use-cert --issuer and what the
// issuer tells about the Secrets it writes.
type IssuerPlan struct {
	Step   *apply.Step
	Params patches.CertificateParams
	// IssuerRef is "Issuer ns/name" or "ClusterIssuer name".
	IssuerRef string
	// ACME issuers write no ca.crt: the public CA's chain is all there is.
	ACME bool
}

// PlanIssuer checks that cert-manager is served and the issuer exists and is
// Ready, then plans the Certificate of the metrics Service. Nothing is
// written; every refusal says that nothing was changed.
func PlanIssuer(ctx context.Context, c kube.Clients, op *operator.Operator, o IssuerOptions) (*IssuerPlan, error) {
	served, err := kube.CertManagerServed(c)
	if err != nil {
		return nil, err
	}
	if !served {
		return nil, fmt.Errorf("%s; nothing was changed", kube.CertManagerNotServed)
	}
	issuer, ref, err := readIssuer(ctx, c, op.Namespace(), o)
	if err != nil {
		return nil, err
	}
	if ready := kube.ReadyCondition(issuer); !ready.IsTrue() {
		return nil, fmt.Errorf("%s is not Ready (%s): fix it first (kubectl describe %s); nothing was changed", ref, ready, describeArgs(o.IssuerKind, op.Namespace(), o.Issuer))
	}
	_, acme, _ := unstructured.NestedMap(issuer.Object, "spec", "acme")

	p := patches.CertificateParams{Namespace: op.Namespace(), Name: op.Name(), Issuer: o.Issuer, IssuerKind: o.IssuerKind, Duration: o.Duration, RenewBefore: o.RenewBefore}
	desired := patches.Certificate(p)
	res := c.Dynamic.Resource(patches.CertificateGVR).Namespace(op.Namespace())
	certRef := fmt.Sprintf("Certificate %s/%s", op.Namespace(), desired.GetName())
	live, owned, err := apply.ReadCustom(ctx, res, certRef, desired.GetName())
	if err != nil {
		return nil, err
	}
	a, err := apply.NewCustomAction(res, desired, live, owned)
	if err != nil {
		return nil, err
	}
	a.Detail = fmt.Sprintf("DNS names %s from %s, into secret %s", strings.Join(patches.ServiceDNSNames(op.Name(), op.Namespace()), ", "), ref, patches.CertificateSecretName(op.Name()))
	return &IssuerPlan{Step: &apply.Step{Title: "Certificate", Actions: []*apply.Action{a}}, Params: p, IssuerRef: ref, ACME: acme}, nil
}

func readIssuer(ctx context.Context, c kube.Clients, namespace string, o IssuerOptions) (*unstructured.Unstructured, string, error) {
	var (
		issuer *unstructured.Unstructured
		err    error
		ref    string
	)
	if o.IssuerKind == patches.ClusterIssuerKind {
		ref = "ClusterIssuer " + o.Issuer
		issuer, err = c.Dynamic.Resource(patches.ClusterIssuerGVR).Get(ctx, o.Issuer, metav1.GetOptions{})
	} else {
		ref = fmt.Sprintf("Issuer %s/%s", namespace, o.Issuer)
		issuer, err = c.Dynamic.Resource(patches.IssuerGVR).Namespace(namespace).Get(ctx, o.Issuer, metav1.GetOptions{})
	}
	switch {
	case apierrors.IsNotFound(err) && o.IssuerKind == patches.ClusterIssuerKind:
		return nil, "", fmt.Errorf("%s not found: create it, or name an Issuer of namespace %s with --issuer-kind Issuer; nothing was changed", ref, namespace)
	case apierrors.IsNotFound(err):
		return nil, "", fmt.Errorf("%s not found: an Issuer must live in the operator's namespace; create it, or name a ClusterIssuer with --issuer-kind ClusterIssuer; nothing was changed", ref)
	case err != nil:
		return nil, "", kube.ReadError(ref, err)
	}
	return issuer, ref, nil
}

func describeArgs(kind, namespace, name string) string {
	if kind == patches.ClusterIssuerKind {
		return "clusterissuer " + name
	}
	return fmt.Sprintf("issuer -n %s %s", namespace, name)
}

// WaitForCertificate waits until cert-manager says the Certificate is Ready
// for its current spec (the condition's observedGeneration) and its Secret
// holds a certificate, printing what it waits for when that changes.
func WaitForCertificate(ctx context.Context, c kube.Clients, namespace, name string, interval, timeout time.Duration, progress io.Writer) error {
	res := c.Dynamic.Resource(patches.CertificateGVR).Namespace(namespace)
	ref := fmt.Sprintf("Certificate %s/%s", namespace, name)
	last, lastErr := "", error(nil)
	say := func(s string) {
		if s != last {
			fmt.Fprintf(progress, "Waiting for %s: %s\n", ref, s)
			last = s
		}
	}
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		cert, err := res.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			lastErr = kube.ReadError(ref, err)
			return false, nil
		}
		ready := kube.ReadyCondition(cert)
		if !ready.IsTrue() || ready.ObservedGeneration < cert.GetGeneration() {
			if ready.IsTrue() {
				say("cert-manager has not seen the new spec yet")
			} else {
				say(ready.String())
			}
			return false, nil
		}
		secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
		s, err := c.Kube.CoreV1().Secrets(namespace).Get(ctx, secretName, metav1.GetOptions{})
		if err != nil || len(s.Data["tls.crt"]) == 0 {
			say("waiting for secret " + secretName)
			return false, nil
		}
		return true, nil
	})
	if err == nil {
		fmt.Fprintf(progress, "%s is Ready\n", ref)
		return nil
	}
	if lastErr != nil && last == "" {
		return fmt.Errorf("%s: %w", ref, lastErr)
	}
	why := last
	if why == "" {
		why = err.Error()
	}
	return fmt.Errorf("%s is not Ready after %s (%s): see kubectl describe certificate -n %s %s; the Certificate stays applied: rerun this command once it is Ready", ref, timeout, why, namespace, name)
}

// planDeleteCertificate deletes the Certificate use-cert --issuer applied,
// when only we manage it, and reports the Secret cert-manager leaves: it
// does not delete it with the Certificate. nil: there is nothing of ours.
func planDeleteCertificate(ctx context.Context, c kube.Clients, op *operator.Operator) (*apply.Step, error) {
	served, err := kube.CertManagerServed(c)
	if err != nil || !served {
		return nil, err
	}
	name := patches.CertificateName(op.Name())
	res := c.Dynamic.Resource(patches.CertificateGVR).Namespace(op.Namespace())
	live, err := res.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, kube.ReadError(fmt.Sprintf("Certificate %s/%s", op.Namespace(), name), err)
	}
	step := &apply.Step{Title: "Certificate"}
	if err := planDelete(ctx, step, "Certificate", op.Namespace()+"/"+name,
		func(context.Context) (metav1.Object, error) { return live, nil },
		func(ctx context.Context, o metav1.DeleteOptions) error { return res.Delete(ctx, name, o) }); err != nil {
		return nil, err
	}
	if len(step.Actions) > 0 {
		if secret, _, _ := unstructured.NestedString(live.Object, "spec", "secretName"); secret != "" {
			step.Notes = append(step.Notes, fmt.Sprintf("left Secret %s/%s: cert-manager keeps it after its Certificate is gone and no longer renews it; delete it yourself when unused", op.Namespace(), secret))
		}
	}
	return step, nil
}
