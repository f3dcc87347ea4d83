package cmd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

const useCertExample = `  # Serve the certificate of an existing kubernetes.io/tls secret
  kubectl eck-metrics use-cert --secret eck-metrics-tls

  # Create or update that secret from files in the same run
  kubectl eck-metrics use-cert --secret eck-metrics-tls --cert tls.crt --key tls.key

  # Let Prometheus verify the certificate with your CA instead of insecureSkipVerify
  kubectl eck-metrics use-cert --secret eck-metrics-tls --ca-secret eck-metrics-ca --ca ca.crt --prometheus-namespace monitoring

  # Have cert-manager issue and renew it (secret elastic-operator-metrics-tls), CA copied for Prometheus
  kubectl eck-metrics use-cert --issuer ca-issuer --ca-secret eck-metrics-ca --prometheus-namespace monitoring

  # With --scrape-auth secret the CA secret lives next to the monitor, in the operator's namespace
  kubectl eck-metrics use-cert --secret eck-metrics-tls --ca-secret eck-metrics-ca --ca ca.crt --scrape-auth secret

  # Go back to the operator's generated certificate
  kubectl eck-metrics use-cert --self-signed`

// UseCertOptions are the flags and state of "use-cert"; it shares the
// flags of enable, whose steps it runs with the certificate configured.
type UseCertOptions struct {
	*EnableOptions

	Secret            string
	CertFile, KeyFile string
	CASecret          string
	CAFile            string
	CAMountDir        string
	SelfSigned        bool
	// cert-manager issues the certificate (usecert_issuer.go).
	Issuer IssuerFlags

	certPEM, keyPEM, caPEM []byte
	now                    func() time.Time
	// caNamespace is where --ca-secret lives: Prometheus's namespace with
	// file auth, the monitor's (the operator's) with secret auth.
	caNamespace string
	scrapeAuth  patches.ScrapeAuth
}

// NewCmdUseCert is "kubectl eck-metrics use-cert".
func NewCmdUseCert(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	o := &UseCertOptions{EnableOptions: NewEnableOptions(configFlags, color, streams), CAMountDir: patches.DefaultCAMountDir, now: time.Now}
	cmd := &cobra.Command{
		Use:   "use-cert (--secret NAME | --issuer NAME | --self-signed)",
		Short: "Serve the metrics endpoint with your own TLS certificate",
		Long: `Make the operator's secure metrics endpoint serve the certificate in a
kubernetes.io/tls secret of the operator's namespace: in native mode the secret
is mounted into the manager container where the operator reads it
(metrics-cert-dir, default /tmp/k8s-metrics-server/serving-certs); in sidecar
mode it is mounted at /tls in kube-rbac-proxy, with --tls-cert-file and
--tls-private-key-file. If metrics are not enabled yet, the enable steps run
first with the same flags.

The certificate is checked before anything is applied: type and keys of the
secret, PEM, that the key matches, validity dates. Expiry within 30 days,
SANs without the metrics Service's name, and an unknown CA without
--ca-secret are warnings. Key material is never printed.

With --issuer, cert-manager issues the certificate: a cert-manager.io/v1
Certificate for the metrics Service's DNS names (server auth) is applied in
the operator's namespace, and once cert-manager says it is Ready (within
--timeout) its Secret <service>-tls is served as with --secret. cert-manager
renews it; the operator reloads renewed files without a restart. With
--ca-secret, the CA copied to Prometheus's namespace (to the operator's,
next to the monitor, with --scrape-auth secret) is the Secret's ca.crt
(or --ca).`,
		Example: useCertExample,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.EnableOptions.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Secret, "secret", "", "kubernetes.io/tls secret in the operator's namespace to serve")
	f.StringVar(&o.CertFile, "cert", "", "PEM certificate file: create or update --secret from it (with --key)")
	f.StringVar(&o.KeyFile, "key", "", "PEM private key file: create or update --secret from it (with --cert)")
	f.StringVar(&o.CASecret, "ca-secret", "", "secret holding ca.crt that Prometheus verifies the certificate with: in --prometheus-namespace (--scrape-auth file), or in the operator's namespace, next to the monitor (--scrape-auth secret)")
	f.StringVar(&o.CAFile, "ca", "", "PEM CA file: create or update --ca-secret from it")
	f.StringVar(&o.CAMountDir, "ca-mount-dir", o.CAMountDir, "where Prometheus mounts its spec.secrets")
	f.BoolVar(&o.SelfSigned, "self-signed", false, "go back to the operator's generated certificate")
	o.Issuer.AddFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("secret", o.completeTLSSecrets)
	return cmd
}

// completeTLSSecrets offers the TLS secrets of the operator's namespace.
func (o *UseCertOptions) completeTLSSecrets(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if err := o.EnableOptions.Complete(); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ns := o.namespace
	if ns == "" {
		ns = operator.DefaultNamespace
	}
	list, err := o.clients.Kube.CoreV1().Secrets(ns).List(cmd.Context(), metav1.ListOptions{FieldSelector: "type=" + string(corev1.SecretTypeTLS)})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, s := range list.Items {
		if strings.HasPrefix(s.Name, toComplete) {
			names = append(names, s.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// Validate checks the flags' combinations.
func (o *UseCertOptions) Validate() error {
	if err := o.EnableOptions.validate(); err != nil {
		return err
	}
	if err := o.validateIssuer(); err != nil {
		return err
	}
	switch {
	case o.SelfSigned && (o.Secret != "" || o.CertFile != "" || o.KeyFile != "" || o.CASecret != "" || o.CAFile != ""):
		return fmt.Errorf("--self-signed goes back to the generated certificate: drop --secret, --cert, --key, --ca-secret and --ca")
	case !o.SelfSigned && o.Secret == "" && o.Issuer.Name == "":
		return fmt.Errorf("give --secret NAME (a kubernetes.io/tls secret), --issuer NAME (cert-manager issues it), or --self-signed to go back to the generated certificate")
	case (o.CertFile == "") != (o.KeyFile == ""):
		return fmt.Errorf("--cert and --key go together: give both, or neither to use the secret as it is")
	case o.CAFile != "" && o.CASecret == "":
		return fmt.Errorf("--ca creates the secret named by --ca-secret: give --ca-secret too")
	}
	// The scrape auth decides where the CA secret lives; without
	// --scrape-auth it is read back from the live monitor in Run.
	if auth := o.flagScrapeAuth(); auth != "" {
		if err := o.checkCANamespace(auth); err != nil {
			return err
		}
	}
	for flag, name := range map[string]string{"secret": o.Secret, "ca-secret": o.CASecret} {
		if name == "" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return fmt.Errorf("invalid --%s %q: %s", flag, name, strings.Join(errs, "; "))
		}
	}
	if !strings.HasPrefix(o.CAMountDir, "/") {
		return fmt.Errorf("invalid --ca-mount-dir %q: use an absolute path", o.CAMountDir)
	}
	return o.readFiles()
}

// flagScrapeAuth is the scrape auth the flags decide, "" when an earlier
// run's is kept (or, with --local, the default: file).
func (o *UseCertOptions) flagScrapeAuth() patches.ScrapeAuth {
	m := o.monitor
	switch {
	case m.Auth != "":
		return m.Auth
	case m.Kind == patches.MonitorPodMonitor:
		return patches.ScrapeAuthSecret
	case o.Local:
		return patches.ScrapeAuthFile
	}
	return ""
}

// checkCANamespace sets where --ca-secret lives for the scrape auth: a
// secret-auth monitor names a Secret of its own namespace, so there is no
// copy in Prometheus's namespace and no spec.secrets to mount.
func (o *UseCertOptions) checkCANamespace(auth patches.ScrapeAuth) error {
	o.scrapeAuth = auth
	switch {
	case auth == patches.ScrapeAuthSecret && o.PrometheusNamespace != "" && !o.NetworkPolicy:
		// With --network-policy, --prometheus-namespace is what it admits.
		return fmt.Errorf("--prometheus-namespace is where --ca-secret lives with --scrape-auth file; with --scrape-auth secret the CA secret lives in the operator's namespace, next to the monitor: drop --prometheus-namespace")
	case auth != patches.ScrapeAuthSecret && o.CASecret != "" && o.PrometheusNamespace == "":
		return fmt.Errorf("--ca-secret lives in Prometheus's namespace: give --prometheus-namespace")
	}
	o.caNamespace = auth.CANamespace(o.operatorNamespace(), o.PrometheusNamespace)
	return nil
}

// operatorNamespace is the namespace the CA secret of secret auth lives in,
// before the operator is found (--local: the render's).
func (o *UseCertOptions) operatorNamespace() string {
	if o.local != nil {
		return o.local.Namespace
	}
	return o.namespace
}

// resolveMonitor decides the monitor's kind and scrape auth against the
// cluster (what an earlier run applied), and so where --ca-secret lives.
func (o *UseCertOptions) resolveMonitor(ctx context.Context, op *operator.Operator) (*steps.MonitorChoice, error) {
	m, err := steps.ResolveMonitor(ctx, o.clients, op.Namespace(), op.Name(), o.monitor)
	if err != nil {
		return nil, err
	}
	auth := m.Auth
	if auth == "" {
		auth = patches.ScrapeAuthFile // no monitor: the CA copy is Prometheus's
	}
	if err := o.checkCANamespace(auth); err != nil {
		return nil, fmt.Errorf("%w (the monitor's scrape auth is %s); nothing was changed", err, auth)
	}
	o.caNamespace = m.CANamespace(op.Namespace(), o.PrometheusNamespace)
	return m, nil
}

// readFiles reads --cert, --key and --ca, once their combination is valid.
func (o *UseCertOptions) readFiles() error {
	read := func(flag, path string) ([]byte, error) {
		if path == "" {
			return nil, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read --%s: %v", flag, err)
		}
		return b, nil
	}
	var err error
	if o.certPEM, err = read("cert", o.CertFile); err != nil {
		return err
	}
	if o.keyPEM, err = read("key", o.KeyFile); err != nil {
		return err
	}
	o.caPEM, err = read("ca", o.CAFile)
	return err
}

// Run checks the certificate, then applies the secrets and the steps.
func (o *UseCertOptions) Run(ctx context.Context) error {
	if o.Local {
		return o.renderLocalCert()
	}
	if o.Issuer.Name != "" {
		return o.runIssuer(ctx)
	}
	op, mode, err := o.findOperator(ctx, func(*operator.Operator) string { return o.Secret })
	if err != nil {
		return err
	}
	monitor, err := o.resolveMonitor(ctx, op)
	if err != nil {
		return err
	}
	e := o.enableOptions(mode)
	e.Monitor = monitor
	plan, err := steps.PlanUseCert(ctx, o.clients, op, e, steps.UseCertOptions{
		Secret:              o.Secret,
		SelfSigned:          o.SelfSigned,
		CertPEM:             o.certPEM,
		KeyPEM:              o.keyPEM,
		CASecret:            o.CASecret,
		PrometheusNamespace: o.caNamespace,
		CAPEM:               o.caPEM,
		CAMountDir:          o.CAMountDir,
		Now:                 o.now(),
	})
	if err != nil {
		return err
	}
	if err := o.guardGitOps(op, plan.Steps, o.gitOpsEnableInstead(op, mode, plan.Steps, o.Secret, o.localCertArgs())); err != nil {
		return err
	}
	o.reportCertificate(plan)
	if err := o.apply(ctx, op, plan.Steps); err != nil {
		return err
	}
	o.printPrometheusSecrets()
	return nil
}

// reportCertificate prints what the checks found about the certificate.
func (o *UseCertOptions) reportCertificate(plan *steps.CertPlan) {
	if r := plan.Report; r != nil {
		names := strings.Join(r.DNSNames, ", ")
		if names == "" {
			names = "none"
		}
		fmt.Fprintf(o.progress(), "Certificate %s: DNS names %s; valid until %s (%d days left)\n", r.Subject, names, r.NotAfter.UTC().Format(time.RFC3339), r.DaysLeft(o.now()))
	}
	for _, w := range plan.Warnings {
		fmt.Fprintln(o.ErrOut, "Warning:", w)
	}
}

// printPrometheusSecrets says how Prometheus mounts the CA secret.
func (o *UseCertOptions) printPrometheusSecrets() {
	if o.CASecret != "" && o.scrapeAuth == patches.ScrapeAuthSecret {
		fmt.Fprintf(o.progress(), "Prometheus reads the CA from secret %s/%s through the monitor's tlsConfig.ca: no spec.secrets needed\n", o.caNamespace, o.CASecret)
		return
	}
	if o.CASecret != "" {
		fmt.Fprintf(o.progress(), "Prometheus reads %s/%s/%s: mount secret %s in your Prometheus resource (namespace %s):\n  spec:\n    secrets:\n    - %s\n",
			o.CAMountDir, o.CASecret, patches.CAKey, o.CASecret, o.PrometheusNamespace, o.CASecret)
	}
}

// renderLocalCert renders use-cert for GitOps. The certificate is checked
// when given as files; Secrets are not rendered (they hold key material:
// keep them in your secret store).
func (o *UseCertOptions) renderLocalCert() error {
	e := o.enableOptions("")
	if o.Issuer.Name != "" {
		return o.renderLocalIssuer(e)
	}
	if !o.SelfSigned {
		if o.certPEM != nil {
			serviceDNS := patches.ServiceDNSName(o.local.Name, o.local.Namespace)
			report, err := certs.Check(o.certPEM, o.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: o.caPEM, Now: o.now()})
			if err != nil {
				return fmt.Errorf("--cert/--key: %w", err)
			}
			for _, w := range report.Warnings {
				fmt.Fprintln(o.ErrOut, "Warning:", w)
			}
		} else {
			fmt.Fprintf(o.ErrOut, "Warning: --local reads no Secret: secret %s is not checked; make sure it exists in %s as a kubernetes.io/tls secret\n", o.Secret, o.local.Namespace)
		}
		e.Cert = steps.CertConfig{Secret: o.Secret, ServiceMonitorTLS: patches.ServiceMonitorTLS{CASecret: o.CASecret, CAMountDir: o.CAMountDir}}
	}
	return o.renderLocalWith(e)
}

// localCertArgs are the flags of use-cert --local that render what this run
// applies (files are not needed: the render only checks them).
func (o *UseCertOptions) localCertArgs() []string {
	if o.SelfSigned {
		return []string{"--self-signed"}
	}
	args := []string{"--secret", o.Secret}
	if o.Issuer.Name != "" {
		args = o.Issuer.localArgs()
	}
	switch {
	case o.CASecret != "" && o.scrapeAuth == patches.ScrapeAuthSecret:
		args = append(args, "--ca-secret", o.CASecret)
	case o.CASecret != "":
		args = append(args, "--ca-secret", o.CASecret, "--prometheus-namespace", o.PrometheusNamespace)
	}
	if o.CAMountDir != patches.DefaultCAMountDir {
		args = append(args, "--ca-mount-dir", o.CAMountDir)
	}
	return args
}
