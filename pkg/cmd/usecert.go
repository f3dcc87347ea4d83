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
  kubectl eck-metrics use-cert --self-signed

  # GitOps: render the Certificate, the objects and the patches, without a cluster
  kubectl eck-metrics use-cert --local --operator-version 3.5.0 --issuer ca-issuer > eck-metrics.yaml

  # GitOps with your own secret (Secrets are not rendered: keep them in your secret store)
  kubectl eck-metrics use-cert --local --operator-version 3.5.0 --secret eck-metrics-tls > eck-metrics.yaml`

// UseCertOptions are what Validate made of use-cert's flags, and its
// state: enable's flag groups (use-cert runs enable's steps with the
// certificate configured), the certificate's and cert-manager's.
type UseCertOptions struct {
	*EnableOptions
	certFlags   CertFlags
	issuerFlags IssuerFlags

	cert CertOptions
	// issuer is cert-manager's issuer; Issuer is "" without --issuer.
	issuer steps.IssuerOptions
	now    func() time.Time
	// caNamespace is where --ca-secret lives: Prometheus's namespace with
	// file auth, the monitor's (the operator's) with secret auth.
	caNamespace string
	scrapeAuth  patches.ScrapeAuth
}

// NewCmdUseCert is "kubectl eck-metrics use-cert".
func NewCmdUseCert(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newUseCertCommand(configFlags, color, streams)
	return cmd
}

// newUseCertCommand is use-cert with its options, for tests.
func newUseCertCommand(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) (*cobra.Command, *UseCertOptions) {
	o := &UseCertOptions{EnableOptions: NewEnableOptions(configFlags, color, streams), certFlags: NewCertFlags(), now: time.Now}
	o.mutateFlags.timeoutUsage = "how long --wait waits, and how long --issuer waits for cert-manager to issue the certificate"
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
	o.certFlags.AddFlags(cmd)
	o.issuerFlags.AddFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("secret", o.completeTLSSecrets)
	addFlagRules(cmd, append(useCertRules(), enableRules()...))
	return cmd, o
}

// useCertRules are the combinations of use-cert's own flags; enable's
// follow them.
func useCertRules() []flagRule {
	return []flagRule{
		{kind: excludes, flag: "issuer", others: []string{"secret", "cert", "key", "self-signed"},
			message: "--issuer has cert-manager issue the certificate into secret <service>-tls: drop --secret, --cert, --key and --self-signed"},
		{kind: excludes, flag: "self-signed", others: []string{"secret", "cert", "key", "ca-secret", "ca"},
			message: "--self-signed goes back to the generated certificate: drop --secret, --cert, --key, --ca-secret and --ca"},
		{kind: together, others: []string{"cert", "key"},
			message: "--cert and --key go together: give both, or neither to use the secret as it is"},
		{kind: needs, flag: "cert", others: []string{"secret"}, message: "--cert and --key create or update the secret named by --secret: give --secret too"},
		{kind: needs, flag: "ca", others: []string{"ca-secret"}, message: "--ca creates the secret named by --ca-secret: give --ca-secret too"},
		{kind: needs, flag: "ca-mount-dir", others: []string{"ca-secret"}, message: "--ca-mount-dir is where Prometheus mounts --ca-secret: add --ca-secret, or drop it"},
		{kind: needs, flag: "issuer-kind", others: []string{"issuer"}, message: "--issuer-kind, --duration and --renew-before go with --issuer: add --issuer NAME, or drop them"},
		{kind: needs, flag: "duration", others: []string{"issuer"}, message: "--issuer-kind, --duration and --renew-before go with --issuer: add --issuer NAME, or drop them"},
		{kind: needs, flag: "renew-before", others: []string{"issuer"}, message: "--issuer-kind, --duration and --renew-before go with --issuer: add --issuer NAME, or drop them"},
		{kind: needs, flag: "prometheus-namespace", others: []string{"ca-secret", "network-policy"},
			message: "--prometheus-namespace is where --ca-secret lives (with --scrape-auth file) and what --network-policy admits: add one of them, or drop it"},
		{kind: needs, flag: "timeout", others: []string{"wait", "issuer"},
			message: "--timeout bounds --wait and the wait for --issuer's certificate: add one of them, or drop it"},
		{kind: oneOf, others: []string{"secret", "issuer", "self-signed"},
			message: "give --secret NAME (a kubernetes.io/tls secret), --issuer NAME (cert-manager issues it), or --self-signed to go back to the generated certificate"},
	}
}

// CertFlags say which certificate to serve and which CA Prometheus
// verifies it with.
type CertFlags struct {
	Secret            string
	CertFile, KeyFile string
	CASecret          string
	CAFile            string
	CAMountDir        string
	SelfSigned        bool
}

// CertOptions are the validated CertFlags, with the files read.
type CertOptions struct {
	Secret                 string
	SelfSigned             bool
	CASecret               string
	CAMountDir             string
	CertPEM, KeyPEM, CAPEM []byte
}

// NewCertFlags has the defaults.
func NewCertFlags() CertFlags { return CertFlags{CAMountDir: patches.DefaultCAMountDir} }

// AddFlags binds --secret, --cert, --key, --ca-secret, --ca, --ca-mount-dir and --self-signed.
func (f *CertFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.Secret, "secret", "", "kubernetes.io/tls secret in the operator's namespace to serve")
	fs.StringVar(&f.CertFile, "cert", "", "PEM certificate file: create or update --secret from it (with --key)")
	fs.StringVar(&f.KeyFile, "key", "", "PEM private key file: create or update --secret from it (with --cert)")
	fs.StringVar(&f.CASecret, "ca-secret", "", "secret holding ca.crt that Prometheus verifies the certificate with: in --prometheus-namespace (--scrape-auth file), or in the operator's namespace, next to the monitor (--scrape-auth secret)")
	fs.StringVar(&f.CAFile, "ca", "", "PEM CA file: create or update --ca-secret from it")
	fs.StringVar(&f.CAMountDir, "ca-mount-dir", f.CAMountDir, "with --ca-secret: where Prometheus mounts its spec.secrets")
	fs.BoolVar(&f.SelfSigned, "self-signed", false, "go back to the operator's generated certificate")
}

// ToOptions checks the names and reads --cert, --key and --ca (the rules
// have checked their combination).
func (f *CertFlags) ToOptions() (CertOptions, error) {
	o := CertOptions{Secret: f.Secret, SelfSigned: f.SelfSigned, CASecret: f.CASecret, CAMountDir: f.CAMountDir}
	for flag, name := range map[string]string{"secret": f.Secret, "ca-secret": f.CASecret} {
		if name == "" {
			continue
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return o, fmt.Errorf("invalid --%s %q: %s", flag, name, strings.Join(errs, "; "))
		}
	}
	if !strings.HasPrefix(f.CAMountDir, "/") {
		return o, fmt.Errorf("invalid --ca-mount-dir %q: use an absolute path", f.CAMountDir)
	}
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
	if o.CertPEM, err = read("cert", f.CertFile); err != nil {
		return o, err
	}
	if o.KeyPEM, err = read("key", f.KeyFile); err != nil {
		return o, err
	}
	o.CAPEM, err = read("ca", f.CAFile)
	return o, err
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

// Validate checks the flags' values; the rules (useCertRules) have
// checked their combinations.
func (o *UseCertOptions) Validate() error {
	if err := o.EnableOptions.Validate(); err != nil {
		return err
	}
	var err error
	if o.issuer, err = o.issuerFlags.ToOptions(); err != nil {
		return err
	}
	if o.cert, err = o.certFlags.ToOptions(); err != nil {
		return err
	}
	// The scrape auth decides where the CA secret lives; without
	// --scrape-auth it is read back from the live monitor in Run.
	if auth := o.flagScrapeAuth(); auth != "" {
		if err := o.checkCANamespace(auth); err != nil {
			return err
		}
	}
	return nil
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
	case o.local != nil:
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
	case auth == patches.ScrapeAuthSecret && o.networkPolicy.PrometheusNamespace != "" && !o.networkPolicy.Enabled:
		// With --network-policy, --prometheus-namespace is what it admits.
		return fmt.Errorf("--prometheus-namespace is where --ca-secret lives with --scrape-auth file; with --scrape-auth secret the CA secret lives in the operator's namespace, next to the monitor: drop --prometheus-namespace")
	case auth != patches.ScrapeAuthSecret && o.cert.CASecret != "" && o.networkPolicy.PrometheusNamespace == "":
		return fmt.Errorf("--ca-secret lives in Prometheus's namespace: give --prometheus-namespace")
	}
	o.caNamespace = auth.CANamespace(o.operatorNamespace(), o.networkPolicy.PrometheusNamespace)
	return nil
}

// operatorNamespace is the namespace the CA secret of secret auth lives in,
// before the operator is found (--local: the render's).
func (o *UseCertOptions) operatorNamespace() string {
	if o.local != nil {
		return o.local.Install.Namespace
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
	o.caNamespace = m.CANamespace(op.Namespace(), o.networkPolicy.PrometheusNamespace)
	return m, nil
}

// Run checks the certificate, then applies the secrets and the steps.
func (o *UseCertOptions) Run(ctx context.Context) error {
	if o.local != nil {
		return o.renderLocalCert()
	}
	if o.issuer.Issuer != "" {
		return o.runIssuer(ctx)
	}
	op, mode, err := o.findOperator(ctx, func(*operator.Operator) string { return o.cert.Secret })
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
		Secret:              o.cert.Secret,
		SelfSigned:          o.cert.SelfSigned,
		CertPEM:             o.cert.CertPEM,
		KeyPEM:              o.cert.KeyPEM,
		CASecret:            o.cert.CASecret,
		PrometheusNamespace: o.caNamespace,
		CAPEM:               o.cert.CAPEM,
		CAMountDir:          o.cert.CAMountDir,
		Now:                 o.now(),
	})
	if err != nil {
		return err
	}
	if err := o.guardGitOps(op, plan.Steps, o.gitOpsEnableInstead(op, mode, plan.Steps, o.cert.Secret, o.localCertArgs())); err != nil {
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
	c := o.cert
	if c.CASecret != "" && o.scrapeAuth == patches.ScrapeAuthSecret {
		fmt.Fprintf(o.progress(), "Prometheus reads the CA from secret %s/%s through the monitor's tlsConfig.ca: no spec.secrets needed\n", o.caNamespace, c.CASecret)
		return
	}
	if c.CASecret != "" {
		fmt.Fprintf(o.progress(), "Prometheus reads %s/%s/%s: mount secret %s in your Prometheus resource (namespace %s):\n  spec:\n    secrets:\n    - %s\n",
			c.CAMountDir, c.CASecret, patches.CAKey, c.CASecret, o.networkPolicy.PrometheusNamespace, c.CASecret)
	}
}

// renderLocalCert renders use-cert for GitOps. The certificate is checked
// when given as files; Secrets are not rendered (they hold key material:
// keep them in your secret store).
func (o *UseCertOptions) renderLocalCert() error {
	e := o.enableOptions("")
	if o.issuer.Issuer != "" {
		return o.renderLocalIssuer(e)
	}
	c, install := o.cert, o.local.Install
	if !c.SelfSigned {
		if c.CertPEM != nil {
			serviceDNS := patches.ServiceDNSName(install.Name, install.Namespace)
			report, err := certs.Check(c.CertPEM, c.KeyPEM, certs.Options{ServiceDNS: serviceDNS, CA: c.CAPEM, Now: o.now()})
			if err != nil {
				return fmt.Errorf("--cert/--key: %w", err)
			}
			for _, w := range report.Warnings {
				fmt.Fprintln(o.ErrOut, "Warning:", w)
			}
		} else {
			fmt.Fprintf(o.ErrOut, "Warning: --local reads no Secret: secret %s is not checked; make sure it exists in %s as a kubernetes.io/tls secret\n", c.Secret, install.Namespace)
		}
		e.Cert = steps.CertConfig{Secret: c.Secret, ServiceMonitorTLS: patches.ServiceMonitorTLS{CASecret: c.CASecret, CAMountDir: c.CAMountDir}}
	}
	return o.renderLocalWith(e)
}

// localCertArgs are the flags of use-cert --local that render what this run
// applies (files are not needed: the render only checks them).
func (o *UseCertOptions) localCertArgs() []string {
	c := o.cert
	if c.SelfSigned {
		return []string{"--self-signed"}
	}
	args := []string{"--secret", c.Secret}
	if o.issuer.Issuer != "" {
		args = issuerLocalArgs(o.issuer)
	}
	switch {
	case c.CASecret != "" && o.scrapeAuth == patches.ScrapeAuthSecret:
		args = append(args, "--ca-secret", c.CASecret)
	case c.CASecret != "":
		args = append(args, "--ca-secret", c.CASecret, "--prometheus-namespace", o.networkPolicy.PrometheusNamespace)
	}
	if c.CASecret != "" && c.CAMountDir != patches.DefaultCAMountDir {
		args = append(args, "--ca-mount-dir", c.CAMountDir)
	}
	return args
}
