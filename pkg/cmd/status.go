package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
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
  kubectl eck-metrics status --probe --metrics-url https://localhost:8080/metrics -o json`

// StatusOptions are the flags and state of "status".
type StatusOptions struct {
	configFlags *genericclioptions.ConfigFlags
	genericiooptions.IOStreams
	OperatorFlags

	PrometheusSA string
	Probe        bool
	MetricsURL   string
	Output       string
	Checks       []string
	color        *colorFlag

	// PrometheusNamespace holds the CA copy use-cert --ca-secret made.
	PrometheusNamespace string

	namespace  string
	clients    kube.Clients
	restConfig *rest.Config
	now        func() time.Time
}

// NewCmdStatus is "kubectl eck-metrics status".
func NewCmdStatus(configFlags *genericclioptions.ConfigFlags, color *colorFlag, streams genericiooptions.IOStreams) *cobra.Command {
	o := &StatusOptions{configFlags: configFlags, IOStreams: streams, Output: "table", now: time.Now, color: color}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Check, step by step, that the metrics endpoint is secured and scrapeable",
		Long: `Check whether the operator's metrics endpoint is secure and whether
Prometheus can scrape it, as a list of checks in categories (operator,
configuration, rbac, service, statefulset, certificate, servicemonitor,
prometheus-selection, prometheus-access, network-policy, live-endpoint). Each check passes, warns or fails with a
hint that says what to run. A check that depends on a failed one is skipped.

status writes nothing to the cluster. It asks the API server
SubjectAccessReviews (questions, not stored). With --probe it requests a
short-lived token (TokenRequest) of each ServiceAccount it checks:
--prometheus-sa, else the reader of --scrape-auth secret, else that of each
Prometheus that selects our monitor; these tokens are the one object it
creates.

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.`,
		Example: statusExample,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	o.OperatorFlags.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.PrometheusSA, "prometheus-sa", "", "NAMESPACE/NAME of Prometheus's ServiceAccount: check it may get /metrics (and scrape with --probe); default: that of each Prometheus that selects our monitor")
	f.StringVar(&o.PrometheusNamespace, "prometheus-namespace", "", "namespace of Prometheus: check that use-cert's CA copy there still verifies the certificate, and that NetworkPolicies admit scrapes from it (default: that of --prometheus-sa, else those of the Prometheus objects that select the monitor)")
	f.BoolVar(&o.Probe, "probe", false, "reach the live endpoint through a port-forward to an operator pod (or --metrics-url)")
	f.StringVar(&o.MetricsURL, "metrics-url", "", "probe this URL instead of port-forwarding (implies --probe)")
	f.StringVarP(&o.Output, "output", "o", o.Output, "table or json")
	f.StringArrayVar(&o.Checks, "check", nil, "run only the check with this ID, e.g. rbac.binding (repeatable; -o json shows every ID)")
	_ = cmd.RegisterFlagCompletionFunc("check", checkCompletions)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete builds the clients; it contacts nothing.
func (o *StatusOptions) Complete() error {
	var err error
	o.namespace, o.clients, o.restConfig, err = clientsFrom(o.configFlags, o.ErrOut)
	return err
}

// Validate checks the flags.
func (o *StatusOptions) Validate() error {
	if err := o.color.validate(); err != nil {
		return err
	}
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("invalid -o %q: use table or json", o.Output)
	}
	for _, id := range o.Checks {
		if !status.IsCheckID(id) {
			return fmt.Errorf("unknown --check %q: use one of %s", id, strings.Join(checkIDNames(), ", "))
		}
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
	opts := status.Options{
		Namespace:    o.namespace,
		Name:         o.Name,
		PrometheusSA: o.PrometheusSA,
		Probe:        o.Probe,
		MetricsURL:   o.MetricsURL,
		Now:          o.now(),
		RESTConfig:   o.restConfig,
		Checks:       checkIDs(o.Checks),
	}
	opts.PrometheusNamespace = o.PrometheusNamespace
	report := status.Run(ctx, o.clients, opts)
	var err error
	if o.Output == "json" {
		err = renderJSON(o.Out, report)
	} else {
		err = renderTable(o.Out, report, style{color: o.color.enabled(o.Out)})
	}
	if err != nil {
		return err
	}
	if !report.Summary.OK {
		return &ExitError{Code: 1}
	}
	return nil
}

func renderJSON(w io.Writer, r *status.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// renderTable prints the checks by category, in the style of linkerd check.
func renderTable(w io.Writer, r *status.Report, st style) error {
	var category status.Category
	for _, c := range r.Checks {
		if c.Category != category {
			if category != "" {
				fmt.Fprintln(w)
			}
			category = c.Category
			fmt.Fprintf(w, "%s\n%s\n", category, strings.Repeat("-", len(category)))
		}
		line := st.mark(string(c.Outcome)) + " " + c.Name
		if c.Message != "" {
			line += ": " + c.Message
		}
		fmt.Fprintln(w, line)
		if c.Hint != "" && c.Outcome != status.Pass {
			fmt.Fprintf(w, "%shint: %s\n", st.hintIndent(), c.Hint)
		}
	}
	s := r.Summary
	verdict := "secured and scrapeable"
	if !s.OK {
		verdict = "NOT ready"
	}
	fmt.Fprintf(w, "\nStatus: %s: %d passed, %d warnings, %d failed, %d skipped\n", verdict, s.Pass, s.Warn, s.Fail, s.Skip)
	return nil
}

func checkIDs(ids []string) []status.CheckID {
	out := make([]status.CheckID, 0, len(ids))
	for _, id := range ids {
		out = append(out, status.CheckID(id))
	}
	return out
}

// checkIDNames are the valid --check values.
func checkIDNames() []string {
	var ids []string
	for _, id := range status.CheckIDs() {
		ids = append(ids, string(id))
	}
	return ids
}
