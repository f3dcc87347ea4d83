package cmd

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
)

// ExitError ends the command with a code and no "error:" line: the
// command has already said everything (status's failed checks).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

const statusExample = `  # Check the endpoint of the operator found in the cluster
  kubectl eck-metrics status

  # Also check that Prometheus's ServiceAccount may scrape, and probe the live endpoint
  kubectl eck-metrics status --prometheus-sa monitoring/prometheus-k8s --probe

  # Probe through a route you already have, as JSON
  kubectl eck-metrics status --probe --metrics-url https://localhost:8080/metrics -o json

  # Every operator of every production context, 8 clusters at a time
  kubectl eck-metrics status -A --all-contexts --context-selector 'prod-*'`

// StatusOptions are the flags and state of "status".
type StatusOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	OperatorFlags
	FleetFlags

	PrometheusSA string
	Probe        bool
	MetricsURL   string
	Output       string
	Checks       []string
	// FailOn is the worst outcome status exits 0 on: failure, or warning.
	FailOn string
	color  *colorFlag

	// PrometheusNamespace holds the CA copy use-cert --ca-secret made.
	PrometheusNamespace string
	// PrometheusURL is a route to Prometheus's web UI (prometheus-targets).
	PrometheusURL string
	// Wait re-checks until every check passes, at most this long (0: once).
	Wait time.Duration

	namespace  string
	clients    kube.Clients
	restConfig *rest.Config
	now        func() time.Time
	// printer prints -o json, yaml and jsonpath; nil for table and wide.
	printer printers.ResourcePrinter
	checks  []status.CheckID
	// targets are the contexts of --contexts or --all-contexts.
	targets []fleetTarget
}

// NewCmdStatus is "kubectl eck-metrics status".
func NewCmdStatus(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newStatusCommand(configFlags, color, streams)
	return cmd
}

// newStatusCommand is status with its options, which tests validate.
func newStatusCommand(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) (*cobra.Command, *StatusOptions) {
	o := &StatusOptions{configFlags: configFlags, IOStreams: streams, Output: "table", FailOn: "failure", now: time.Now, color: color}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Check, step by step, that the metrics endpoint is secured and scrapeable",
		Long: `Check whether the operator's metrics endpoint is secure and whether
Prometheus can scrape it, as a list of checks in categories (` + categoryList() + `).
Each check passes, warns or fails with a hint that says what to run. A check that depends on a failed one is skipped.

status writes nothing to the cluster. It asks the API server
SubjectAccessReviews (questions, not stored). With --probe it requests a
short-lived token (TokenRequest) of each ServiceAccount it checks:
--prometheus-sa, else the reader of --scrape-auth secret, else that of each
Prometheus that selects our monitor; these tokens are the one object it
creates. prometheus-targets asks each Prometheus that selects our monitor
for its targets (one GET through the API server's service proxy, or at
--prometheus-url), waiting at most 5s for each.

With -A it checks every operator it may list; with --contexts or
--all-contexts every cluster, in parallel (--parallel), each within
--cluster-timeout: a summary table comes first, then the checks of what is
not ready. A cluster that cannot be looked at is reported as "could not
check" and delays none of the others; Ctrl-C prints what finished.

Exit status: 0 when nothing failed (warnings allowed; with --fail-on
warning, none either), 1 when a check failed, 2 on bad usage or when the
cluster could not be looked at (one line says why). Over several operators
or clusters the worst wins (2 over 1 over 0).`,
		Example: statusExample,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.OperatorFlags.AddFlags(cmd)
	o.FleetFlags.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.PrometheusSA, "prometheus-sa", "", "NAMESPACE/NAME of Prometheus's ServiceAccount: check it may get /metrics (and scrape with --probe); default: that of each Prometheus that selects our monitor")
	f.StringVar(&o.PrometheusNamespace, "prometheus-namespace", "", "namespace of Prometheus: check that use-cert's CA copy there still verifies the certificate, and that NetworkPolicies admit scrapes from it (default: that of --prometheus-sa, else those of the Prometheus objects that select the monitor)")
	f.StringVar(&o.PrometheusURL, "prometheus-url", "", "ask the Prometheus at this URL (e.g. http://127.0.0.1:9090 after kubectl port-forward) for our monitor's targets, instead of each selecting Prometheus through the API server's service proxy")
	f.DurationVar(&o.Wait, "wait", 0, "re-check every "+statusPollInterval.String()+" until every check passes, Prometheus's target up included (--wait alone: "+defaultStatusWait.String()+"), printing a line per change; at the timeout the report, exit 1")
	f.Lookup("wait").NoOptDefVal = defaultStatusWait.String()
	f.BoolVar(&o.Probe, "probe", false, "reach the live endpoint through a port-forward to an operator pod (or --metrics-url)")
	f.StringVar(&o.MetricsURL, "metrics-url", "", "probe this URL instead of port-forwarding (implies --probe)")
	f.StringVarP(&o.Output, "output", "o", o.Output, "table, wide (adds check IDs and details), json, yaml, or jsonpath=TEMPLATE")
	f.StringArrayVar(&o.Checks, "check", nil, "run only this check (e.g. rbac.binding) or category (e.g. rbac) (repeatable; -o json shows every ID)")
	f.StringVar(&o.FailOn, "fail-on", o.FailOn, "the outcome that makes status exit 1: failure, or warning (for CI: warnings count as failures)")
	_ = cmd.RegisterFlagCompletionFunc("check", checkCompletions)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(statusOutputs, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"failure", "warning"}, cobra.ShellCompDirectiveNoFileComp))
	addFlagRules(cmd, fleetRules())
	return cmd, o
}

// Complete builds the clients (with --contexts or --all-contexts, picks
// the contexts); it contacts nothing.
func (o *StatusOptions) Complete() error {
	if o.several() {
		return o.completeFleet()
	}
	var err error
	o.namespace, o.clients, o.restConfig, err = clientsFrom(o.configFlags, o.ErrOut)
	return err
}

// Validate checks the flags.
func (o *StatusOptions) Validate() error {
	if err := o.color.validate(); err != nil {
		return err
	}
	if err := o.validateOutput(); err != nil {
		return err
	}
	if o.Parallel < 1 {
		return fmt.Errorf("invalid --parallel %d: check at least 1 cluster at a time", o.Parallel)
	}
	if o.ClusterTimeout <= 0 {
		return fmt.Errorf("invalid --cluster-timeout %s: give each cluster some time, e.g. 30s", o.ClusterTimeout)
	}
	if o.FailOn != "failure" && o.FailOn != "warning" {
		return fmt.Errorf("invalid --fail-on %q: use failure or warning", o.FailOn)
	}
	var err error
	if o.checks, err = selectChecks(o.Checks); err != nil {
		return err
	}
	if o.PrometheusSA != "" {
		ns, name, ok := strings.Cut(o.PrometheusSA, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("invalid --prometheus-sa %q: use NAMESPACE/NAME", o.PrometheusSA)
		}
	}
	if o.PrometheusNamespace != "" {
		if errs := validation.IsDNS1123Label(o.PrometheusNamespace); len(errs) > 0 {
			return fmt.Errorf("invalid --prometheus-namespace %q: %s", o.PrometheusNamespace, strings.Join(errs, "; "))
		}
	}
	if o.Wait < 0 {
		return fmt.Errorf("invalid --wait %s: use a positive duration, e.g. --wait=5m", o.Wait)
	}
	if o.PrometheusURL != "" {
		u, err := url.Parse(o.PrometheusURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("invalid --prometheus-url %q: use the base URL of Prometheus's web UI, as http://HOST:9090", o.PrometheusURL)
		}
	}
	if o.MetricsURL != "" {
		u, err := url.Parse(o.MetricsURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("invalid --metrics-url %q: use https://HOST:PORT/metrics", o.MetricsURL)
		}
		o.Probe = true
	}
	return nil
}

// Run runs the checks and renders them.
func (o *StatusOptions) Run(ctx context.Context) error {
	switch {
	case o.several():
		return o.runFleet(ctx)
	case o.AllNamespaces:
		return o.runAllNamespaces(ctx)
	}
	opts := o.statusOptions(o.namespace, o.restConfig)
	report, err := status.Run(ctx, o.clients, opts)
	if err != nil {
		return ambiguityHint(err)
	}
	if o.Wait > 0 {
		if report, err = o.waitReady(ctx, opts, report); err != nil {
			return err
		}
	}
	if err := o.render(report); err != nil {
		return err
	}
	if !o.ready(report) {
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

const (
	// statusPollInterval: how often --wait re-checks (each a full run).
	statusPollInterval = 5 * time.Second
	defaultStatusWait  = 5 * time.Minute
)

// ready tells whether status exits 0. Under --wait, a warning of
// prometheus-targets (a target not scraped yet, a config reload pending,
// a Prometheus not answering) is not ready either: what --wait waits for
// is Prometheus scraping the target.
func (o *StatusOptions) ready(r *status.Report) bool {
	for _, c := range r.Checks {
		if !o.checkReady(c) {
			return false
		}
	}
	return true
}

func (o *StatusOptions) checkReady(c status.Check) bool {
	switch {
	case c.Outcome == status.Fail:
		return false
	case c.Outcome != status.Warn:
		return true
	}
	return o.FailOn != "warning" && (o.Wait == 0 || c.Category != status.CategoryTargets)
}

// waitReady re-runs the checks until ready or the --wait timeout, printing
// to stderr the checks that keep it from ready, then one line per change
// of a check's outcome (not per poll: messages such as a scrape's age
// change every time).
func (o *StatusOptions) waitReady(ctx context.Context, opts status.Options, report *status.Report) (*status.Report, error) {
	deadline := o.now().Add(o.Wait)
	outcomes := map[status.CheckID]status.Outcome{}
	for _, c := range report.Checks {
		outcomes[c.ID] = c.Outcome
		if !o.checkReady(c) {
			fmt.Fprintf(o.ErrOut, "waiting for %s: %s: %s\n", c.ID, c.Outcome, c.Message)
		}
	}
	for !o.ready(report) {
		left := deadline.Sub(o.now())
		if left <= 0 {
			fmt.Fprintf(o.ErrOut, "not ready after %s\n", o.Wait)
			return report, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(statusPollInterval, left)):
		}
		opts.Now = o.now()
		next, err := status.Run(ctx, o.clients, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range next.Checks {
			if before, seen := outcomes[c.ID]; !seen || before != c.Outcome {
				fmt.Fprintf(o.ErrOut, "%s: %s -> %s: %s\n", c.ID, orNone(before), c.Outcome, c.Message)
			}
			outcomes[c.ID] = c.Outcome
		}
		report = next
	}
	return report, nil
}

func orNone(o status.Outcome) status.Outcome {
	if o == "" {
		return "none"
	}
	return o
}

// categoryList names the categories of the catalogue, in the order they run.
func categoryList() string {
	var names []string
	for _, c := range status.Categories() {
		names = append(names, string(c))
	}
	return strings.Join(names, ", ")
}

// selectChecks reads the --check values: a check ID, or a category ID for
// all of its checks.
func selectChecks(values []string) ([]status.CheckID, error) {
	var ids []status.CheckID
	for _, v := range values {
		switch {
		case status.IsCheckID(v):
			ids = append(ids, status.CheckID(v))
		case status.ChecksOf(status.Category(v)) != nil:
			ids = append(ids, status.ChecksOf(status.Category(v))...)
		default:
			return nil, fmt.Errorf("unknown --check %q: use a category (%s) or a check ID (status -o json lists them)", v, categoryList())
		}
	}
	return ids, nil
}

// checkIDNames are the valid --check values.
func checkIDNames() []string {
	var ids []string
	for _, id := range status.CheckIDs() {
		ids = append(ids, string(id))
	}
	return ids
}
