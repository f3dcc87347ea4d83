package cmd

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/apply"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/helmhint"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/render"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

const enableExample = `  # Secure the metrics endpoint of the operator found in the cluster
  kubectl eck-metrics enable

  # Show what would be applied, without changing anything
  kubectl eck-metrics enable --dry-run=client

  # An operator installed under another name, on another metrics port, and wait for the rollout
  kubectl eck-metrics enable -n eck --name my-operator --port 9090 --wait

  # Let a Prometheus that selects ServiceMonitors by label find this one
  kubectl eck-metrics enable --monitor-label release=prometheus

  # For a Prometheus with arbitraryFSAccessThroughSMs.deny: credentials from Secrets, no file paths
  kubectl eck-metrics enable --scrape-auth secret

  # A PodMonitor instead of the ServiceMonitor, scraped every 15s
  kubectl eck-metrics enable --monitor podmonitor --interval 15s

  # Alerts for later: a PrometheusRule next to the monitor, selected like it
  kubectl eck-metrics enable --monitor-label release=prometheus --alerts

  # Where a default-deny NetworkPolicy isolates the operator, admit the namespaces of the
  # Prometheus objects that select the monitor (found), or the one given
  kubectl eck-metrics enable --network-policy
  kubectl eck-metrics enable --network-policy --prometheus-namespace monitoring

  # GitOps: render the objects and patches for ECK 3.5.0, merged into the install's eck.yaml
  kubectl eck-metrics enable --local --operator-version 3.5.0 -f eck-operator-config.yaml > eck-metrics.yaml

  # A scrape job for a Prometheus that prometheus-operator does not run
  kubectl eck-metrics enable --local --operator-version 3.5.0 --scrape-config prometheus`

// EnableFlags are the flag groups of "enable"; use-cert has them too.
type EnableFlags struct {
	Install       InstallFlags
	Monitor       *MonitorFlags
	NetworkPolicy NetworkPolicyFlags
	Local         LocalFlags
}

// EnableOptions are what Validate made of enable's flags, and its state.
type EnableOptions struct {
	mutateCommand
	flags *EnableFlags

	install       InstallOptions
	monitor       steps.MonitorOptions
	networkPolicy NetworkPolicyOptions
	// local is the install --local renders; nil without --local.
	local *LocalOptions
}

// NewEnableOptions has the defaults of every flag.
func NewEnableOptions(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *EnableOptions {
	flags := NewMutateFlags(`"none", "client" (print the objects, send nothing) or "server" (send with dryRun=All and print what the server would store)`,
		"patch a Helm-managed operator (the next helm upgrade reverts it)", "how long --wait waits")
	return &EnableOptions{
		mutateCommand: newMutateCommand(configFlags, color, streams, flags),
		flags:         &EnableFlags{Install: NewInstallFlags(), Monitor: NewMonitorFlags(), Local: NewLocalFlags()},
	}
}

// NewCmdEnable is "kubectl eck-metrics enable".
func NewCmdEnable(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newEnableCommand(configFlags, color, streams)
	return cmd
}

// newEnableCommand is enable with its options, for tests.
func newEnableCommand(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) (*cobra.Command, *EnableOptions) {
	o := NewEnableOptions(configFlags, color, streams)
	cmd := &cobra.Command{
		Use:   "enable",
		Short: "Secure the operator's metrics endpoint with RBAC and TLS (server-side apply)",
		Long: `Run the documented steps that secure the ECK operator's metrics endpoint, in
order, each with server-side apply (field manager kubectl-eck-metrics):

  1. ConfigMap: set metrics-port, metrics-host (and metrics-secure in native
     mode) in eck.yaml, keeping every other key and comment
  2. ClusterRole and ClusterRoleBinding for tokenreviews/subjectaccessreviews,
     bound to the operator's ServiceAccount
  3. Service <name>-metrics, port https 8080 -> metrics
  4. StatefulSet: the manager's metrics port (native) or the kube-rbac-proxy
     sidecar (sidecar)
  5. ServiceMonitor or PodMonitor, where the monitoring.coreos.com/v1 API is
     served (--scrape-auth secret: also a reader ServiceAccount, its token
     Secret and a ClusterRole/Binding that may get /metrics)
  6. with --alerts: a PrometheusRule next to the monitor, alerting when the
     scrape target is down, absent or rejects Prometheus for 10m (and when a
     cert-manager certificate is not renewed)
  7. with --network-policy: a NetworkPolicy admitting Prometheus to the
     metrics port

Every change is first sent as a server dry run, so a missing permission or
a conflict stops the run before anything is written. Running it again on
an enabled operator changes nothing.`,
		Example: enableExample,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.AddFlags(cmd)
	addFlagRules(cmd, append(enableRules(),
		flagRule{kind: needs, flag: "prometheus-namespace", others: []string{"network-policy"},
			message: "--prometheus-namespace is the namespace --network-policy admits: add --network-policy, or drop it"},
		flagRule{kind: needs, flag: "timeout", others: []string{"wait"},
			message: "--timeout is how long --wait waits: add --wait, or drop it"}))
	return cmd, o
}

// AddFlags binds the flag groups of enable (use-cert has them too).
func (o *EnableOptions) AddFlags(cmd *cobra.Command) {
	o.addFlags(cmd)
	o.flags.Install.AddFlags(cmd)
	o.flags.Monitor.AddFlags(cmd)
	o.flags.NetworkPolicy.AddFlags(cmd)
	o.flags.Local.AddFlags(cmd)
	// pflag says a flag is deprecated on its output, which cobra otherwise
	// keeps in a buffer shown only with a parse error.
	if o.ErrOut != nil {
		cmd.Flags().SetOutput(o.ErrOut)
	}
}

// enableRules are the combinations of enable's flags (use-cert's start
// with them): a render sees no cluster and sends nothing.
func enableRules() []flagRule {
	rules := []flagRule{
		{kind: excludes, flag: "local", others: []string{"network-policy"},
			message: "--network-policy needs the cluster: it applies only where NetworkPolicies already isolate the operator pod, which --local cannot see; drop one of them"},
		{kind: excludes, flag: "local", others: []string{"dry-run", "wait"},
			message: "--local only renders: drop --dry-run and --wait"},
		{kind: excludes, flag: "local", others: []string{"allow-helm", "allow-gitops", "force-conflicts", "timeout"},
			message: "--local only renders, so {other} has nothing to allow or bound: drop it"},
	}
	rules = append(rules, needsLocal("operator-version", "filename", "service-account", "selector", "local-part", "scrape-config")...)
	rules = append(rules, flagRule{kind: together, others: []string{"local", "operator-version"},
		message: "--local needs --operator-version (the ECK version of the install, e.g. 3.5.0)"})
	return append(rules, scrapeJobExcludes()...)
}

// Complete builds the clients; it contacts nothing.
func (o *EnableOptions) Complete() error {
	if o.flags.Local.Local {
		// Renders from flags: no kubeconfig needed.
		return nil
	}
	return o.complete()
}

// Validate checks every flag before anything is read or written.
func (o *EnableOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	return o.validateNetworkPolicy()
}

// validate turns the flag groups enable shares with use-cert into options.
func (o *EnableOptions) validate() error {
	f := o.flags
	rendering := f.Local.Local
	if err := o.validateMutate(rendering); err != nil {
		return err
	}
	var err error
	if o.install, err = f.Install.ToOptions(); err != nil {
		return err
	}
	if o.monitor, err = f.Monitor.ToOptions(rendering); err != nil {
		return err
	}
	if o.networkPolicy, err = f.NetworkPolicy.ToOptions(); err != nil {
		return err
	}
	if o.local, err = f.Local.ToOptions(o.flagNamespace(), o.Name); err != nil {
		return err
	}
	return o.validateScrapeJob()
}

// flagNamespace is -n, "" when not given: the kubeconfig context's
// namespace (often "default") would hide the operator.
func (o *EnableOptions) flagNamespace() string {
	if o.configFlags != nil && o.configFlags.Namespace != nil {
		return *o.configFlags.Namespace
	}
	return ""
}

// validateNetworkPolicy checks --network-policy against the monitor:
// without --prometheus-namespace, the namespaces admitted are those of the
// Prometheus objects that select the monitor.
func (o *EnableOptions) validateNetworkPolicy() error {
	np := o.networkPolicy
	if np.Enabled && np.PrometheusNamespace == "" && o.monitor.Kind == patches.MonitorNone {
		return fmt.Errorf("--network-policy admits the namespaces of the Prometheus objects that select the monitor, which %s leaves out: give --prometheus-namespace", o.monitor.KindFlag)
	}
	return nil
}

// validateScrapeJob checks, with --scrape-config, what the job can be given
// by values (the rules refuse the flags it has no use for).
func (o *EnableOptions) validateScrapeJob() error {
	switch {
	case o.local == nil || o.local.ScrapeConfig == "":
		return nil
	case o.Output != "yaml":
		return fmt.Errorf("--scrape-config renders Prometheus's YAML: drop -o %s", o.Output)
	case o.monitor.Auth == patches.ScrapeAuthSecret:
		return fmt.Errorf("--scrape-config's job authenticates with Prometheus's own ServiceAccount token file: drop --scrape-auth %s", o.monitor.Auth)
	}
	return nil
}

// InstallFlags shape the operator's manifests: --mode, --port and --sidecar-image.
type InstallFlags struct {
	Mode         string
	Port         int  // --port; 0 when not given
	PortSet      bool // --port given: a taken port is refused, not replaced
	SidecarImage string
}

// InstallOptions are the validated InstallFlags.
type InstallOptions struct {
	// Mode is --mode, "" to choose it by the operator's version.
	Mode operator.Mode
	// Port is --port, 0 when not given (enable picks a free one).
	Port         int
	SidecarImage string
}

// NewInstallFlags has the defaults.
func NewInstallFlags() InstallFlags { return InstallFlags{SidecarImage: patches.DefaultSidecarImg} }

// AddFlags binds --mode, --port and --sidecar-image.
func (f *InstallFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.Mode, "mode", "", "native or sidecar (default: chosen by the operator's version)")
	fs.Var(&portFlag{f: f}, "port", fmt.Sprintf("metrics-port the operator serves metrics on (default: %d when free, else the next free port; a port an earlier enable set is kept)", patches.DefaultMetricsPort))
	fs.StringVar(&f.SidecarImage, "sidecar-image", f.SidecarImage, "kube-rbac-proxy image of sidecar mode")
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"native", "sidecar"}, cobra.ShellCompDirectiveNoFileComp))
}

// ToOptions checks --mode, --port and --sidecar-image.
func (f *InstallFlags) ToOptions() (InstallOptions, error) {
	o := InstallOptions{SidecarImage: f.SidecarImage}
	var err error
	if o.Mode, err = operator.ParseMode(f.Mode); err != nil {
		return o, err
	}
	if f.PortSet {
		if f.Port < 1 || f.Port > 65535 {
			return o, fmt.Errorf("invalid --port %d: use a port between 1 and 65535", f.Port)
		}
		o.Port = f.Port
	}
	if strings.TrimSpace(f.SidecarImage) == "" {
		return o, fmt.Errorf("--sidecar-image is empty: give a kube-rbac-proxy image, e.g. %s", patches.DefaultSidecarImg)
	}
	if o.Mode == operator.ModeNative && f.SidecarImage != patches.DefaultSidecarImg {
		return o, fmt.Errorf("--sidecar-image is the proxy of sidecar mode, which --mode native does not run: drop one of them")
	}
	return o, nil
}

// NetworkPolicyFlags are --network-policy and --prometheus-namespace.
type NetworkPolicyFlags struct {
	NetworkPolicy       bool
	PrometheusNamespace string
}

// NetworkPolicyOptions are the validated NetworkPolicyFlags.
type NetworkPolicyOptions struct {
	// Enabled (--network-policy) admits Prometheus to the metrics port
	// where NetworkPolicies isolate the operator pod.
	Enabled bool
	// PrometheusNamespace is Prometheus's namespace: what --network-policy
	// admits, and where use-cert's --ca-secret lives.
	PrometheusNamespace string
}

// AddFlags binds --network-policy and --prometheus-namespace.
func (f *NetworkPolicyFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.NetworkPolicy, "network-policy", false, "where NetworkPolicies isolate the operator pod, apply one that admits to the metrics port --prometheus-namespace, else the namespaces of the Prometheus objects that select the monitor (refused where no policy isolates the pod: it would isolate it)")
	fs.StringVar(&f.PrometheusNamespace, "prometheus-namespace", "", "namespace of Prometheus: what --network-policy admits (default: those of the Prometheus objects that select the monitor), and where use-cert's --ca-secret lives with --scrape-auth file")
}

// ToOptions checks --prometheus-namespace.
func (f *NetworkPolicyFlags) ToOptions() (NetworkPolicyOptions, error) {
	if f.PrometheusNamespace != "" {
		if errs := validation.IsDNS1123Label(f.PrometheusNamespace); len(errs) > 0 {
			return NetworkPolicyOptions{}, fmt.Errorf("invalid --prometheus-namespace %q: %s", f.PrometheusNamespace, strings.Join(errs, "; "))
		}
	}
	return NetworkPolicyOptions{Enabled: f.NetworkPolicy, PrometheusNamespace: f.PrometheusNamespace}, nil
}

// LocalFlags render for GitOps instead of applying: --local and what
// describes the install it cannot read.
type LocalFlags struct {
	Local           bool
	OperatorVersion string
	Filename        string
	ServiceAccount  string
	Selector        string
	LocalPart       string
	// ScrapeConfig renders a scrape job for a Prometheus that
	// prometheus-operator does not run instead of the manifests.
	ScrapeConfig string
}

// LocalOptions are the validated LocalFlags: the install a render describes.
type LocalOptions struct {
	Install render.LocalInstall
	// Part is all, resources or patches.
	Part         string
	ScrapeConfig string
	// EckYAML is the eck.yaml of -f, nil without it; PreviousSettings is
	// enable's record on the ConfigMap given by -f.
	EckYAML          *string
	PreviousSettings string
}

// NewLocalFlags has the defaults.
func NewLocalFlags() LocalFlags {
	return LocalFlags{Selector: operator.AllInOneSelector, LocalPart: "all"}
}

// AddFlags binds --local, --operator-version, -f, --service-account, --selector, --local-part and --scrape-config.
func (f *LocalFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.Local, "local", false, "render the manifests and patches for GitOps without contacting a cluster (needs --operator-version)")
	fs.StringVar(&f.OperatorVersion, "operator-version", "", "with --local: the ECK version of the install (3.5, 3.5.0 or v3.5.0)")
	fs.StringVarP(&f.Filename, "filename", "f", "", "with --local: the install's eck.yaml (or its ConfigMap, as kubectl get -o yaml prints it), to render the whole ConfigMap")
	fs.StringVar(&f.ServiceAccount, "service-account", "", "with --local: the operator's ServiceAccount (default: --name, else elastic-operator)")
	fs.StringVar(&f.Selector, "selector", f.Selector, "with --local: the operator's pod selector (KEY=VALUE[,KEY=VALUE])")
	fs.StringVar(&f.LocalPart, "local-part", f.LocalPart, "with --local: all, resources (new objects) or patches (of the ConfigMap and StatefulSet), for kustomize")
	fs.StringVar(&f.ScrapeConfig, "scrape-config", "", "with --local: render instead a scrape_configs job for a Prometheus not run by prometheus-operator: prometheus")
	_ = cmd.RegisterFlagCompletionFunc("scrape-config", cobra.FixedCompletions([]string{render.ScrapeConfigPrometheus}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("local-part", cobra.FixedCompletions([]string{"all", "resources", "patches"}, cobra.ShellCompDirectiveNoFileComp))
}

// ToOptions checks the --local flags and builds the install they describe
// in namespace (-n) with name (--name); nil without --local (the rules
// refuse the other flags without it).
func (f *LocalFlags) ToOptions(namespace, name string) (*LocalOptions, error) {
	if !f.Local {
		return nil, nil
	}
	switch {
	case f.OperatorVersion == "":
		return nil, fmt.Errorf("--local needs --operator-version (the ECK version of the install, e.g. 3.5.0)")
	case f.LocalPart != "all" && f.LocalPart != "resources" && f.LocalPart != "patches":
		return nil, fmt.Errorf("invalid --local-part %q: use all, resources or patches", f.LocalPart)
	case f.ScrapeConfig != "" && f.ScrapeConfig != render.ScrapeConfigPrometheus:
		return nil, fmt.Errorf("invalid --scrape-config %q: use %s (a scrape_configs job for a Prometheus not run by prometheus-operator)", f.ScrapeConfig, render.ScrapeConfigPrometheus)
	}
	v, err := operator.ParseVersion(f.OperatorVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid --operator-version: %v", err)
	}
	selector, err := labels.ConvertSelectorToLabelsMap(f.Selector)
	if err != nil || len(selector) == 0 {
		return nil, fmt.Errorf("invalid --selector %q: use KEY=VALUE[,KEY=VALUE]", f.Selector)
	}
	if namespace == "" {
		namespace = operator.DefaultNamespace
	}
	if name == "" {
		name = operator.DefaultName
	}
	sa := f.ServiceAccount
	if sa == "" {
		sa = name
	}
	o := &LocalOptions{Install: render.LocalInstall{Namespace: namespace, Name: name, ServiceAccount: sa, PodSelector: selector, Version: v},
		Part: f.LocalPart, ScrapeConfig: f.ScrapeConfig}
	if f.Filename != "" {
		raw, err := os.ReadFile(f.Filename)
		if err != nil {
			return nil, fmt.Errorf("cannot read -f: %v", err)
		}
		op, err := o.Install.Operator()
		if err != nil {
			return nil, err
		}
		text, record, err := localEckConfig(raw, op.ConfigKey)
		if err != nil {
			return nil, fmt.Errorf("-f %s: %w", f.Filename, err)
		}
		o.EckYAML, o.PreviousSettings = &text, record
	}
	return o, nil
}

// renderLocal prints what enable would apply, for a GitOps repository.
func (o *EnableOptions) renderLocal(e steps.EnableOptions) error {
	e.Cert = steps.CertConfig{}
	return o.renderLocalWith(e)
}

// renderLocalWith prints the rendered objects of e.
func (o *EnableOptions) renderLocalWith(e steps.EnableOptions) error {
	op, err := o.local.Install.Operator()
	if err != nil {
		return err
	}
	mode, err := operator.ChooseMode(op.Version, o.install.Mode)
	if err != nil {
		return err
	}
	e.Mode = mode
	if o.local.ScrapeConfig != "" {
		return o.renderScrapeJob(op, e.Cert.ServiceMonitorTLS)
	}
	rendered, portNote, err := render.Local(op, e, o.local.EckYAML, o.local.PreviousSettings)
	if err != nil {
		return err
	}
	if o.local.EckYAML == nil && o.local.Part != "resources" {
		fmt.Fprintf(o.ErrOut, "Warning: without -f, the ConfigMap holds only the metrics keys: merge them into the eck.yaml of %s/%s (applied as is, it would replace the whole file)\n", op.Namespace(), op.ConfigMapName)
	}
	var objects []runtime.Object
	for _, r := range rendered {
		if (o.local.Part == "resources" && r.Patch) || (o.local.Part == "patches" && !r.Patch) {
			continue
		}
		u, err := apply.ToUnstructured(r.Object)
		if err != nil {
			return err
		}
		objects = append(objects, u)
	}
	fmt.Fprintf(o.ErrOut, "Rendered for ECK %s in %s mode: %s/%s (ServiceAccount %s, pods %s), %s; nothing was sent to a cluster\n", op.Version, mode, op.Namespace(), op.Name(), op.ServiceAccount, labels.Set(op.PodSelector), portNote)
	return printObjects(o.printer, o.Output, objects, o.Out)
}

// findOperator finds the install, chooses the mode and applies the Helm policy.
// certSecret names, for the operator found, the secret the Helm command
// serves (use-cert); nil for none.
func (o *EnableOptions) findOperator(ctx context.Context, certSecret func(*operator.Operator) string) (*operator.Operator, operator.Mode, error) {
	op, err := operator.Find(ctx, o.clients.Kube, o.namespace, o.Name, operator.DefaultSelectors())
	if err != nil {
		return nil, "", err
	}
	mode, err := operator.ChooseMode(op.Version, o.install.Mode)
	if err != nil {
		return nil, "", fmt.Errorf("%s/%s: %w", op.Namespace(), op.Name(), err)
	}
	secret := ""
	if certSecret != nil {
		secret = certSecret(op)
	}
	helm := helmhint.SecureCommand(op, o.helmPort(), secret)
	refusal := ", whose next upgrade would revert these changes: run instead\n  " + helm + "\nor pass --allow-helm to patch it anyway"
	if why := helmhint.SidecarEraChart(op); why != "" {
		refusal = ", whose next upgrade would revert these changes; " + why + ":\n  " + helm + "\nor pass --allow-helm to patch it anyway"
	}
	if err := o.guardHelm(op, refusal,
		": the next helm upgrade reverts these changes; the chart's way is\n  "+helm, o.ErrOut); err != nil {
		return nil, "", err
	}
	versionText := "unknown version"
	if op.Version != nil {
		versionText = "ECK " + op.Version.String()
	}
	how := "chosen by version"
	if o.install.Mode != "" {
		how = "--mode"
	}
	fmt.Fprintf(o.progress(), "Operator %s/%s: %s, %s mode (%s)\n", op.Namespace(), op.Name(), versionText, mode, how)
	return op, mode, nil
}

func (o *EnableOptions) enableOptions(mode operator.Mode) steps.EnableOptions {
	return steps.EnableOptions{
		Mode:                mode,
		Port:                int32(o.install.Port),
		SidecarImage:        o.install.SidecarImage,
		MonitorFlags:        o.monitor,
		Cert:                steps.CertConfig{Keep: true},
		NetworkPolicy:       o.networkPolicy.Enabled,
		PrometheusNamespace: o.networkPolicyFrom(),
	}
}

// networkPolicyFrom is the namespace --network-policy admits, "" without
// it or to admit those of the Prometheus objects found.
func (o *EnableOptions) networkPolicyFrom() string {
	if !o.networkPolicy.Enabled {
		return ""
	}
	return o.networkPolicy.PrometheusNamespace
}

// Run finds the operator, plans the steps, applies them and waits.
func (o *EnableOptions) Run(ctx context.Context) error {
	if o.local != nil {
		return o.renderLocal(o.enableOptions(""))
	}
	op, mode, err := o.findOperator(ctx, nil)
	if err != nil {
		return err
	}
	plan, err := steps.PlanEnable(ctx, o.clients, op, o.enableOptions(mode))
	if err != nil {
		return err
	}
	if err := o.guardGitOps(op, plan, o.gitOpsEnableInstead(op, mode, plan, kube.CurrentCertSecret(op), nil)); err != nil {
		return err
	}
	return o.apply(ctx, op, plan)
}

// helmPort is the chart's config.metrics.port for the Helm and GitOps hints:
// --port, else the documented default.
func (o *EnableOptions) helmPort() int32 {
	if o.install.Port != 0 {
		return int32(o.install.Port)
	}
	return patches.DefaultMetricsPort
}

// portFlag is --port: it records that the port was given, so that only an
// explicit port is refused when taken (without it enable picks a free one).
type portFlag struct{ f *InstallFlags }

func (p *portFlag) String() string {
	if p.f == nil || !p.f.PortSet {
		return ""
	}
	return strconv.Itoa(p.f.Port)
}

func (p *portFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("invalid --port %q: use a port between 1 and 65535", s)
	}
	p.f.Port, p.f.PortSet = n, true
	return nil
}

func (p *portFlag) Type() string { return "int" }
