package cmd

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
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

  # Where a default-deny NetworkPolicy isolates the operator, admit the namespaces of the
  # Prometheus objects that select the monitor (found), or the one given
  kubectl eck-metrics enable --network-policy
  kubectl eck-metrics enable --network-policy --prometheus-namespace monitoring`

// EnableOptions are the flags and state of "enable".
type EnableOptions struct {
	mutateCommand

	Mode         string
	Port         int  // --port; 0 when not given
	PortSet      bool // --port given: a taken port is refused, not replaced
	SidecarImage string
	// ServiceMonitor is the deprecated --service-monitor (monitor.go).
	ServiceMonitor string
	// ServiceMonitorLabels is --service-monitor-label, kept as an alias of --monitor-label.
	ServiceMonitorLabels []string
	MonitorFlags
	// NetworkPolicy (--network-policy) admits PrometheusNamespace to the
	// metrics port where NetworkPolicies isolate the operator pod.
	NetworkPolicy bool
	// PrometheusNamespace is Prometheus's namespace: what --network-policy
	// admits, and where use-cert's --ca-secret lives.
	PrometheusNamespace string
	// GitOps rendering: no cluster is contacted.
	Local           bool
	OperatorVersion string
	Filename        string
	ServiceAccount  string
	Selector        string
	LocalPart       string
	// ScrapeConfig, with --local, renders a scrape job for a Prometheus
	// that prometheus-operator does not run instead of the manifests.
	ScrapeConfig string

	mode              operator.Mode
	serviceMonitorSet bool
	monitor           steps.MonitorOptions
	local             *steps.LocalInstall
	eckYAML           *string
	// previousSettings is enable's record on the ConfigMap given by -f.
	previousSettings string
}

// NewEnableOptions has the defaults of every flag.
func NewEnableOptions(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *EnableOptions {
	flags := NewMutateFlags(`"none", "client" (print the objects, send nothing) or "server" (send with dryRun=All and print what the server would store)`,
		"patch a Helm-managed operator (the next helm upgrade reverts it)")
	return &EnableOptions{
		mutateCommand:  newMutateCommand(configFlags, color, streams, flags),
		SidecarImage:   patches.DefaultSidecarImg,
		ServiceMonitor: "auto",
	}
}

// NewCmdEnable is "kubectl eck-metrics enable".
func NewCmdEnable(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
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
  5. ServiceMonitor (or PodMonitor: --monitor), where the
     monitoring.coreos.com/v1 API is served; with --scrape-auth secret also
     a reader ServiceAccount, its token Secret and a ClusterRole/Binding
     that may get /metrics
  6. with --network-policy: NetworkPolicy <name>-metrics admitting to the
     metrics port --prometheus-namespace, else the namespaces of the
     Prometheus and PrometheusAgent objects that select the monitor (none
     found: refused), only where NetworkPolicies already isolate the
     operator pod (else it is refused)

Every change is first sent as a server dry run, so a missing permission or
a conflict stops the run before anything is written. Running it again on
an enabled operator changes nothing.`,
		Example: enableExample,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.AddFlags(cmd)
	return cmd
}

// AddFlags binds the flags of enable (use-cert shares them).
func (o *EnableOptions) AddFlags(cmd *cobra.Command) {
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Mode, "mode", "", "native or sidecar (default: chosen by the operator's version)")
	f.Var(&portFlag{o: o}, "port", fmt.Sprintf("metrics-port the operator serves metrics on (default: %d when free, else the next free port; a port an earlier enable set is kept)", patches.DefaultMetricsPort))
	f.StringVar(&o.SidecarImage, "sidecar-image", o.SidecarImage, "kube-rbac-proxy image of sidecar mode")
	o.addMonitorFlags(cmd)
	f.StringArrayVar(&o.ServiceMonitorLabels, "service-monitor-label", nil, "alias of --monitor-label")
	f.BoolVar(&o.NetworkPolicy, "network-policy", false, "where NetworkPolicies isolate the operator pod, apply one that admits to the metrics port --prometheus-namespace, else the namespaces of the Prometheus objects that select the monitor (refused where no policy isolates the pod: it would isolate it)")
	f.StringVar(&o.PrometheusNamespace, "prometheus-namespace", "", "namespace of Prometheus: what --network-policy admits (default: those of the Prometheus objects that select the monitor; and, for use-cert with --scrape-auth file, where --ca-secret lives)")
	f.BoolVar(&o.Local, "local", false, "render the manifests and patches for GitOps without contacting a cluster (needs --operator-version)")
	f.StringVar(&o.OperatorVersion, "operator-version", "", "with --local: the ECK version of the install (3.5, 3.5.0 or v3.5.0)")
	f.StringVarP(&o.Filename, "filename", "f", "", "with --local: the install's eck.yaml (or its ConfigMap, as kubectl get -o yaml prints it), to render the whole ConfigMap")
	f.StringVar(&o.ServiceAccount, "service-account", "", "with --local: the operator's ServiceAccount (default: --name)")
	f.StringVar(&o.Selector, "selector", operator.AllInOneSelector, "with --local: the operator's pod selector (KEY=VALUE[,KEY=VALUE])")
	f.StringVar(&o.LocalPart, "local-part", "all", "with --local: all, resources (new objects) or patches (of the ConfigMap and StatefulSet), for kustomize")
	f.StringVar(&o.ScrapeConfig, "scrape-config", "", "with --local: render instead a scrape_configs job for a Prometheus not run by prometheus-operator: prometheus")
	_ = cmd.RegisterFlagCompletionFunc("scrape-config", cobra.FixedCompletions([]string{steps.ScrapeConfigPrometheus}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("local-part", cobra.FixedCompletions([]string{"all", "resources", "patches"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"native", "sidecar"}, cobra.ShellCompDirectiveNoFileComp))
}

// Complete builds the clients; it contacts nothing.
func (o *EnableOptions) Complete() error {
	if o.Local {
		// Renders from flags: no kubeconfig needed.
		if o.configFlags.Namespace != nil {
			o.namespace = *o.configFlags.Namespace
		}
		return nil
	}
	return o.complete()
}

// Validate checks every flag before anything is read or written.
func (o *EnableOptions) Validate() error {
	if o.PrometheusNamespace != "" && !o.NetworkPolicy {
		return fmt.Errorf("--prometheus-namespace is the namespace --network-policy admits: add --network-policy, or drop it")
	}
	return o.validate()
}

// validate checks the flags enable shares with use-cert.
func (o *EnableOptions) validate() error {
	if err := o.color.validate(); err != nil {
		return err
	}
	var err error
	if o.mode, err = operator.ParseMode(o.Mode); err != nil {
		return err
	}
	if o.PortSet && (o.Port < 1 || o.Port > 65535) {
		return fmt.Errorf("invalid --port %d: use a port between 1 and 65535", o.Port)
	}
	if err := o.validateDryRun(); err != nil {
		return err
	}
	if o.monitor, err = o.validateMonitor(); err != nil {
		return err
	}
	if strings.TrimSpace(o.SidecarImage) == "" {
		return fmt.Errorf("--sidecar-image is empty: give a kube-rbac-proxy image, e.g. %s", patches.DefaultSidecarImg)
	}
	if err := o.validateNetworkPolicy(); err != nil {
		return err
	}
	if err := o.validateLocal(); err != nil {
		return err
	}
	return o.validatePrinter(o.dryRun != steps.DryRunNone || o.Local)
}

// validateNetworkPolicy checks --network-policy and --prometheus-namespace.
func (o *EnableOptions) validateNetworkPolicy() error {
	if o.PrometheusNamespace != "" {
		if errs := validation.IsDNS1123Label(o.PrometheusNamespace); len(errs) > 0 {
			return fmt.Errorf("invalid --prometheus-namespace %q: %s", o.PrometheusNamespace, strings.Join(errs, "; "))
		}
	}
	switch {
	case o.NetworkPolicy && o.Local:
		// Whether the operator pod is isolated decides whether the policy
		// is safe to apply; a render cannot see that.
		return fmt.Errorf("--network-policy needs the cluster: it applies only where NetworkPolicies already isolate the operator pod, which --local cannot see; drop one of them")
	case o.NetworkPolicy && o.PrometheusNamespace == "" && o.monitor.Kind == patches.MonitorNone:
		// Without it, the namespaces admitted are those of the Prometheus
		// objects that select the monitor.
		return fmt.Errorf("--network-policy admits the namespaces of the Prometheus objects that select the monitor, which %s leaves out: give --prometheus-namespace", o.monitor.KindFlag)
	}
	return nil
}

// validateLocal checks the --local flags and builds the install they describe.
func (o *EnableOptions) validateLocal() error {
	if !o.Local {
		for flag, v := range map[string]string{"operator-version": o.OperatorVersion, "filename": o.Filename, "service-account": o.ServiceAccount, "scrape-config": o.ScrapeConfig} {
			if v != "" {
				return fmt.Errorf("--%s is for --local rendering: add --local, or drop it", flag)
			}
		}
		return nil
	}
	switch {
	case o.OperatorVersion == "":
		return fmt.Errorf("--local needs --operator-version (the ECK version of the install, e.g. 3.5.0)")
	case o.dryRun != steps.DryRunNone || o.Wait:
		return fmt.Errorf("--local only renders: drop --dry-run and --wait")
	case o.LocalPart != "all" && o.LocalPart != "resources" && o.LocalPart != "patches":
		return fmt.Errorf("invalid --local-part %q: use all, resources or patches", o.LocalPart)
	}
	if err := o.validateScrapeConfig(); err != nil {
		return err
	}
	v, err := operator.ParseVersion(o.OperatorVersion)
	if err != nil {
		return fmt.Errorf("invalid --operator-version: %v", err)
	}
	selector, err := labels.ConvertSelectorToLabelsMap(o.Selector)
	if err != nil || len(selector) == 0 {
		return fmt.Errorf("invalid --selector %q: use KEY=VALUE[,KEY=VALUE]", o.Selector)
	}
	ns, name := o.namespace, o.Name
	if ns == "" {
		ns = operator.DefaultNamespace
	}
	if name == "" {
		name = operator.DefaultName
	}
	sa := o.ServiceAccount
	if sa == "" {
		sa = name
	}
	o.local = &steps.LocalInstall{Namespace: ns, Name: name, ServiceAccount: sa, PodSelector: selector, Version: v}
	if o.Filename != "" {
		raw, err := os.ReadFile(o.Filename)
		if err != nil {
			return fmt.Errorf("cannot read -f: %v", err)
		}
		op, err := o.local.Operator()
		if err != nil {
			return err
		}
		text, record, err := localEckConfig(raw, op.ConfigKey)
		if err != nil {
			return fmt.Errorf("-f %s: %w", o.Filename, err)
		}
		o.eckYAML, o.previousSettings = &text, record
	}
	return nil
}

// validateScrapeConfig checks --scrape-config (under --local).
func (o *EnableOptions) validateScrapeConfig() error {
	switch {
	case o.ScrapeConfig == "":
		return nil
	case o.ScrapeConfig != steps.ScrapeConfigPrometheus:
		return fmt.Errorf("invalid --scrape-config %q: use %s (a scrape_configs job for a Prometheus not run by prometheus-operator)", o.ScrapeConfig, steps.ScrapeConfigPrometheus)
	case o.LocalPart != "all":
		return fmt.Errorf("--scrape-config renders only the scrape job, no manifests: drop --local-part")
	case o.outputFormat() != "" && o.outputFormat() != "yaml":
		return fmt.Errorf("--scrape-config renders Prometheus's YAML: drop -o %s", o.outputFormat())
	case o.ScrapeAuth != "" && o.ScrapeAuth != string(patches.ScrapeAuthFile):
		return fmt.Errorf("--scrape-config's job authenticates with Prometheus's own ServiceAccount token file: drop --scrape-auth %s", o.ScrapeAuth)
	}
	// The job replaces the monitor: what shapes only a monitor would be dropped without a word.
	for _, f := range []struct {
		name  string
		given bool
	}{{"monitor", o.Monitor != ""}, {"service-monitor", o.serviceMonitorSet}, {"monitor-label", len(o.MonitorLabels) > 0},
		{"service-monitor-label", len(o.ServiceMonitorLabels) > 0}, {"monitor-annotation", len(o.MonitorAnnotations) > 0}} {
		if f.given {
			return fmt.Errorf("--scrape-config renders a scrape job instead of a monitor, so --%s has nothing to shape: drop it", f.name)
		}
	}
	return nil
}

// renderLocal prints what enable would apply, for a GitOps repository.
func (o *EnableOptions) renderLocal(e steps.EnableOptions) error {
	e.Cert = steps.CertConfig{}
	return o.renderLocalWith(e)
}

// renderLocalWith prints the rendered objects of e.
func (o *EnableOptions) renderLocalWith(e steps.EnableOptions) error {
	op, err := o.local.Operator()
	if err != nil {
		return err
	}
	mode, err := operator.ChooseMode(op.Version, o.mode)
	if err != nil {
		return err
	}
	e.Mode = mode
	if o.ScrapeConfig != "" {
		return o.renderScrapeJob(op, e.Cert.ServiceMonitorTLS)
	}
	rendered, portNote, err := steps.RenderLocal(op, e, o.eckYAML, o.previousSettings)
	if err != nil {
		return err
	}
	if o.eckYAML == nil && o.LocalPart != "resources" {
		fmt.Fprintf(o.ErrOut, "Warning: without -f, the ConfigMap holds only the metrics keys: merge them into the eck.yaml of %s/%s (applied as is, it would replace the whole file)\n", op.Namespace(), op.ConfigMapName)
	}
	var objects []runtime.Object
	for _, r := range rendered {
		if (o.LocalPart == "resources" && r.Patch) || (o.LocalPart == "patches" && !r.Patch) {
			continue
		}
		u, err := steps.ToUnstructured(r.Object)
		if err != nil {
			return err
		}
		objects = append(objects, u)
	}
	fmt.Fprintf(o.ErrOut, "Rendered for ECK %s in %s mode: %s/%s (ServiceAccount %s, pods %s), %s; nothing was sent to a cluster\n", op.Version, mode, op.Namespace(), op.Name(), op.ServiceAccount, o.Selector, portNote)
	return printObjects(o.printer, o.outputFormat(), objects, o.Out)
}

// findOperator finds the install, chooses the mode and applies the Helm policy.
// certSecret names, for the operator found, the secret the Helm command
// serves (use-cert); nil for none.
func (o *EnableOptions) findOperator(ctx context.Context, certSecret func(*operator.Operator) string) (*operator.Operator, operator.Mode, error) {
	op, err := operator.Find(ctx, o.clients.Kube, o.namespace, o.Name, operator.DefaultSelectors())
	if err != nil {
		return nil, "", err
	}
	mode, err := operator.ChooseMode(op.Version, o.mode)
	if err != nil {
		return nil, "", fmt.Errorf("%s/%s: %w", op.Namespace(), op.Name(), err)
	}
	secret := ""
	if certSecret != nil {
		secret = certSecret(op)
	}
	helm := patches.HelmSecureCommand(op, o.helmPort(), secret)
	refusal := ", whose next upgrade would revert these changes: run instead\n  " + helm + "\nor pass --allow-helm to patch it anyway"
	if why := patches.SidecarEraChart(op); why != "" {
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
	if o.mode != "" {
		how = "--mode"
	}
	fmt.Fprintf(o.progress(), "Operator %s/%s: %s, %s mode (%s)\n", op.Namespace(), op.Name(), versionText, mode, how)
	return op, mode, nil
}

func (o *EnableOptions) enableOptions(mode operator.Mode) steps.EnableOptions {
	return steps.EnableOptions{
		Mode:                mode,
		Port:                int32(o.Port),
		SidecarImage:        o.SidecarImage,
		MonitorFlags:        o.monitor,
		Cert:                steps.CertConfig{Keep: true},
		NetworkPolicy:       o.NetworkPolicy,
		PrometheusNamespace: o.networkPolicyFrom(),
	}
}

// networkPolicyFrom is the namespace --network-policy admits, "" without
// it or to admit those of the Prometheus objects found.
func (o *EnableOptions) networkPolicyFrom() string {
	if !o.NetworkPolicy {
		return ""
	}
	return o.PrometheusNamespace
}

// Run finds the operator, plans the steps, applies them and waits.
func (o *EnableOptions) Run(ctx context.Context) error {
	if o.Local {
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
	if o.PortSet {
		return int32(o.Port)
	}
	return patches.DefaultMetricsPort
}

// portFlag is --port: it records that the port was given, so that only an
// explicit port is refused when taken (without it enable picks a free one).
type portFlag struct{ o *EnableOptions }

func (p *portFlag) String() string {
	if p.o == nil || !p.o.PortSet {
		return ""
	}
	return strconv.Itoa(p.o.Port)
}

func (p *portFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("invalid --port %q: use a port between 1 and 65535", s)
	}
	p.o.Port, p.o.PortSet = n, true
	return nil
}

func (p *portFlag) Type() string { return "int" }
