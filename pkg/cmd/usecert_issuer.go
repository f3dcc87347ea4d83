package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// IssuerFlags are use-cert's cert-manager flags.
type IssuerFlags struct {
	Name                  string
	Kind                  string
	Duration, RenewBefore time.Duration
}

// minCertificateDuration is cert-manager's lower bound of spec.duration.
const minCertificateDuration = time.Hour

// AddFlags binds --issuer, --issuer-kind, --duration and --renew-before.
func (f *IssuerFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	f.Kind = patches.IssuerKind
	fs.StringVar(&f.Name, "issuer", "", "cert-manager issuer that issues and renews the certificate into secret <service>-tls")
	fs.StringVar(&f.Kind, "issuer-kind", f.Kind, "kind of --issuer: Issuer (in the operator's namespace) or ClusterIssuer")
	fs.DurationVar(&f.Duration, "duration", 0, "with --issuer: the certificate's lifetime (default: cert-manager's, 90 days)")
	fs.DurationVar(&f.RenewBefore, "renew-before", 0, "with --issuer: renew this long before expiry (default: cert-manager's, a third of --duration)")
	_ = cmd.RegisterFlagCompletionFunc("issuer-kind", cobra.FixedCompletions([]string{patches.IssuerKind, patches.ClusterIssuerKind}, cobra.ShellCompDirectiveNoFileComp))
}

// ToOptions checks the cert-manager flags' values; "" Issuer without
// --issuer (the rules refuse the others without it, and --issuer with
// the other ways of getting a certificate).
func (f *IssuerFlags) ToOptions() (steps.IssuerOptions, error) {
	if f.Name == "" {
		return steps.IssuerOptions{}, nil
	}
	switch {
	case f.Kind != patches.IssuerKind && f.Kind != patches.ClusterIssuerKind:
		return steps.IssuerOptions{}, fmt.Errorf("invalid --issuer-kind %q: use Issuer or ClusterIssuer", f.Kind)
	case f.Duration < 0 || f.RenewBefore < 0:
		return steps.IssuerOptions{}, fmt.Errorf("--duration and --renew-before must be positive, e.g. --duration 2160h --renew-before 360h")
	case f.Duration != 0 && f.Duration < minCertificateDuration:
		return steps.IssuerOptions{}, fmt.Errorf("invalid --duration %s: cert-manager refuses less than %s", f.Duration, minCertificateDuration)
	case f.Duration != 0 && f.RenewBefore >= f.Duration:
		return steps.IssuerOptions{}, fmt.Errorf("--renew-before %s must be shorter than --duration %s", f.RenewBefore, f.Duration)
	}
	if errs := validation.IsDNS1123Subdomain(f.Name); len(errs) > 0 {
		return steps.IssuerOptions{}, fmt.Errorf("invalid --issuer %q: %s", f.Name, strings.Join(errs, "; "))
	}
	return steps.IssuerOptions{Issuer: f.Name, IssuerKind: f.Kind, Duration: f.Duration, RenewBefore: f.RenewBefore}, nil
}

// issuerLocalArgs are the flags of use-cert --local that render the same Certificate.
func issuerLocalArgs(i steps.IssuerOptions) []string {
	args := []string{"--issuer", i.Issuer}
	if i.IssuerKind != patches.IssuerKind {
		args = append(args, "--issuer-kind", i.IssuerKind)
	}
	if i.Duration != 0 {
		args = append(args, "--duration", i.Duration.String())
	}
	if i.RenewBefore != 0 {
		args = append(args, "--renew-before", i.RenewBefore.String())
	}
	return args
}

// runIssuer applies the Certificate, waits until cert-manager has issued
// it, then serves its Secret as --secret does. Refusals (no cert-manager,
// no issuer, issuer not Ready) come before anything is written.
func (o *UseCertOptions) runIssuer(ctx context.Context) error {
	op, mode, err := o.findOperator(ctx, func(op *operator.Operator) string { return patches.CertificateSecretName(op.Name()) })
	if err != nil {
		return err
	}
	monitor, err := o.resolveMonitor(ctx, op)
	if err != nil {
		return err
	}
	ip, err := steps.PlanIssuer(ctx, o.clients, op, o.issuer)
	if err != nil {
		return err
	}
	if ip.ACME && o.cert.CASecret != "" && o.cert.CAPEM == nil {
		return fmt.Errorf("%s is an ACME issuer, whose Secrets hold no ca.crt: pass --ca FILE with the CA that signs its certificates for --ca-secret; nothing was changed", ip.IssuerRef)
	}
	secretName := patches.CertificateSecretName(op.Name())
	// Before anything is written; the steps after the Certificate are
	// guarded again once they are planned.
	certStep := []*apply.Step{ip.Step}
	if err := o.guardGitOps(op, certStep, o.gitOpsEnableInstead(op, mode, certStep, secretName, o.localCertArgs())); err != nil {
		return err
	}
	// The Certificate, then, once issued, the CA copy (with --ca-secret)
	// and the enable steps.
	length := 1 + steps.EnableLength(o.enableOptions(mode))
	if o.cert.CASecret != "" {
		length++
	}
	plan := apply.NewPlan(length)
	certObjects, err := o.runner().Run(ctx, plan, certStep)
	if err != nil {
		return err
	}

	if o.DryRun == apply.DryRunNone {
		if err := steps.WaitForCertificate(ctx, o.clients, op.Namespace(), ip.Step.Actions[0].Name, o.pollInterval, o.Timeout, o.progress()); err != nil {
			return err
		}
	}
	// Read once: its ca.crt and its certificate both come from it. A dry
	// run applies no Certificate and waits for nothing: the rest is
	// planned from the Secret if an earlier run had it issued.
	secret, err := o.clients.Kube.CoreV1().Secrets(op.Namespace()).Get(ctx, secretName, metav1.GetOptions{})
	issued := err == nil
	if err != nil && (o.DryRun == apply.DryRunNone || !apierrors.IsNotFound(err)) {
		return kube.ReadError(fmt.Sprintf("secret %s/%s", op.Namespace(), secretName), err)
	}
	if !issued {
		rest, err := o.planBeforeIssue(ctx, op, mode, secretName, monitor)
		if err != nil {
			return err
		}
		if err := o.guardGitOps(op, rest, o.gitOpsEnableInstead(op, mode, rest, secretName, o.localCertArgs())); err != nil {
			return err
		}
		return o.applyAfter(ctx, op, plan, rest, certObjects)
	}

	caPEM := o.cert.CAPEM
	if o.cert.CASecret != "" && caPEM == nil {
		if caPEM, err = issuedCA(secret, ip.IssuerRef); err != nil {
			return err
		}
	}
	e := o.enableOptions(mode)
	e.Monitor = monitor
	e.AlertsCertificate = o.issuedCertificate(op)
	rest, err := steps.PlanUseCert(ctx, o.clients, op, e, steps.UseCertOptions{
		Secret:              secretName,
		SecretRead:          secret,
		CASecret:            o.cert.CASecret,
		PrometheusNamespace: o.caNamespace,
		CAPEM:               caPEM,
		CAMountDir:          o.cert.CAMountDir,
		Now:                 o.now(),
	})
	if err != nil {
		return err
	}
	if err := o.guardGitOps(op, rest.Steps, o.gitOpsEnableInstead(op, mode, rest.Steps, secretName, o.localCertArgs())); err != nil {
		return err
	}
	o.reportCertificate(rest)
	if err := o.applyAfter(ctx, op, plan, rest.Steps, certObjects); err != nil {
		return err
	}
	o.printPrometheusSecrets()
	return nil
}

// issuedCertificate is the Certificate this run applies, for --alerts
// (a dry run applies none for the steps to read).
func (o *UseCertOptions) issuedCertificate(op *operator.Operator) *patches.CertificateParams {
	return &patches.CertificateParams{Namespace: op.Namespace(), Name: op.Name(), Issuer: o.issuer.Issuer, IssuerKind: o.issuer.IssuerKind,
		Duration: o.issuer.Duration, RenewBefore: o.issuer.RenewBefore}
}

// issuedCA is the ca.crt cert-manager wrote next to the certificate.
func issuedCA(s *corev1.Secret, issuerRef string) ([]byte, error) {
	if len(s.Data[patches.CAKey]) == 0 {
		return nil, fmt.Errorf("secret %s/%s has no %s: %s writes none (ACME issuers, for one, do not): pass --ca FILE with the CA that signed it; the Certificate is applied, nothing else was changed", s.Namespace, s.Name, patches.CAKey, issuerRef)
	}
	return s.Data[patches.CAKey], nil
}

// planBeforeIssue is what a dry run shows when the Secret is not issued
// yet: the enable steps with the Secret mounted, the CA copy not planned.
func (o *UseCertOptions) planBeforeIssue(ctx context.Context, op *operator.Operator, mode operator.Mode, secretName string, monitor *steps.MonitorChoice) ([]*apply.Step, error) {
	e := o.enableOptions(mode)
	e.Monitor = monitor
	e.AlertsCertificate = o.issuedCertificate(op)
	e.Cert = steps.CertConfig{Secret: secretName, ServiceMonitorTLS: patches.ServiceMonitorTLS{CASecret: o.cert.CASecret, CAMountDir: o.cert.CAMountDir}}
	enable, err := steps.PlanEnable(ctx, o.clients, op, e)
	if err != nil {
		return nil, err
	}
	for _, s := range enable {
		if s.Title == "StatefulSet" {
			s.Notes = append(s.Notes, fmt.Sprintf("secret %s is not issued yet, so its certificate is not checked: cert-manager writes it once the Certificate is applied", secretName))
		}
	}
	var plan []*apply.Step
	if o.cert.CASecret != "" {
		plan = append(plan, &apply.Step{Title: "Secrets", Skipped: fmt.Sprintf("Secret %s/%s not planned: its %s comes from secret %s once it is issued", o.caNamespace, o.cert.CASecret, patches.CAKey, secretName)})
	}
	return append(plan, enable...), nil
}

// renderLocalIssuer renders the Certificate with what use-cert applies.
func (o *UseCertOptions) renderLocalIssuer(e steps.EnableOptions) error {
	install := o.local.Install
	p := patches.CertificateParams{Namespace: install.Namespace, Name: install.Name, Issuer: o.issuer.Issuer, IssuerKind: o.issuer.IssuerKind,
		Duration: o.issuer.Duration, RenewBefore: o.issuer.RenewBefore}
	secretName := patches.CertificateSecretName(install.Name)
	if o.cert.CASecret != "" {
		fmt.Fprintf(o.ErrOut, "Warning: --local renders no Secret: copy the %s of secret %s/%s, once issued, to secret %s/%s\n", patches.CAKey, install.Namespace, secretName, o.caNamespace, o.cert.CASecret)
	}
	e.Cert = steps.CertConfig{Secret: secretName, ServiceMonitorTLS: patches.ServiceMonitorTLS{CASecret: o.cert.CASecret, CAMountDir: o.cert.CAMountDir}, Issuer: &p}
	return o.renderLocalWith(e)
}
