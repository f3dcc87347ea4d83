package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/fleet"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
)

// FleetFlags are the flags of status that check several operators or
// clusters at once.
type FleetFlags struct {
	AllNamespaces   bool
	Contexts        []string
	AllContexts     bool
	ContextSelector string
	Parallel        int
	ClusterTimeout  time.Duration
}

// AddFlags binds the fleet flags.
func (f *FleetFlags) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVarP(&f.AllNamespaces, "all-namespaces", "A", false, "check every ECK operator StatefulSet you may list, in every namespace")
	fs.StringSliceVar(&f.Contexts, "contexts", nil, "check these kubeconfig contexts (comma-separated), in parallel")
	fs.BoolVar(&f.AllContexts, "all-contexts", false, "check every context of the kubeconfig, in parallel")
	fs.StringVar(&f.ContextSelector, "context-selector", "", "with --all-contexts: only the contexts whose name matches this glob (e.g. 'prod-*')")
	fs.IntVar(&f.Parallel, "parallel", 8, "with --contexts or --all-contexts: how many clusters are checked at once")
	fs.DurationVar(&f.ClusterTimeout, "cluster-timeout", 30*time.Second, "with --contexts or --all-contexts: how long one cluster may take before it is reported as could not check")
}

// fleetRules are how the fleet flags go with the others.
func fleetRules() []flagRule {
	return []flagRule{
		{kind: excludes, flag: "contexts", others: []string{"context", "all-contexts"},
			message: "--contexts names the contexts to check: drop {other}"},
		{kind: excludes, flag: "all-contexts", others: []string{"context"},
			message: "--all-contexts checks every context: drop --context (or name several with --contexts)"},
		{kind: excludes, flag: "all-namespaces", others: []string{"namespace", "name"},
			message: "--all-namespaces checks every operator: drop {other}"},
		// One operator at a time: a wait, or one Prometheus's route, fits one cluster.
		{kind: excludes, flag: "wait", others: []string{"all-namespaces", "contexts", "all-contexts"},
			message: "--wait re-checks one operator until it is ready: drop {other}, or check that operator alone"},
		{kind: excludes, flag: "prometheus-url", others: []string{"contexts", "all-contexts"},
			message: "--prometheus-url is one cluster's Prometheus: drop {other}, or check that cluster alone with --context"},
		{kind: needs, flag: "context-selector", others: []string{"all-contexts"},
			message: "--context-selector picks among --all-contexts: add --all-contexts, or drop it"},
		{kind: needs, flag: "parallel", others: []string{"contexts", "all-contexts"},
			message: "{flag} is for checking several clusters: add {other}, or drop it"},
		{kind: needs, flag: "cluster-timeout", others: []string{"contexts", "all-contexts"},
			message: "{flag} is for checking several clusters: add {other}, or drop it"},
	}
}

// several tells whether status checks several clusters.
func (f *FleetFlags) several() bool { return len(f.Contexts) > 0 || f.AllContexts }

// Verdicts of one operator, in the summary and the JSON.
const (
	verdictReady      = "ready"
	verdictNotReady   = "not ready"
	verdictCouldNotDo = "could not check"
)

// operatorResult is one operator checked (or one cluster that could not
// be): an entry of the list -A, --contexts and --all-contexts print.
type operatorResult struct {
	// Context and Server: the kubeconfig context and its API server (only
	// with --contexts and --all-contexts).
	Context   string `json:"context,omitempty"`
	Server    string `json:"server,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	Verdict   string `json:"verdict"`
	// Reason says in one line why the cluster could not be checked.
	Reason string `json:"reason,omitempty"`
	// Failed are the IDs of the checks that failed (or warned, with
	// --fail-on warning).
	Failed []status.CheckID `json:"failed,omitempty"`
	// Report is absent when the cluster could not be checked.
	*status.Report `json:",omitempty"`
}

// exitCode is the code status would exit with for this operator alone.
func (r *operatorResult) exitCode() int {
	switch r.Verdict {
	case verdictCouldNotDo:
		return ExitUsage
	case verdictNotReady:
		return ExitFailed
	}
	return 0
}

// result makes the entry of a report.
func (o *StatusOptions) result(report *status.Report) *operatorResult {
	r := &operatorResult{Report: report, Version: report.Version, Verdict: verdictReady}
	r.Namespace, r.Name, _ = strings.Cut(report.Operator, "/")
	for _, c := range report.Checks {
		if !o.checkReady(c) {
			r.Failed = append(r.Failed, c.ID)
		}
	}
	if !report.Summary.OK || len(r.Failed) > 0 {
		r.Verdict = verdictNotReady
	}
	return r
}

// statusOptions are the options of status.Run for one cluster.
func (o *StatusOptions) statusOptions(namespace string, cfg *rest.Config) status.Options {
	return status.Options{
		Namespace:           namespace,
		Name:                o.Name,
		PrometheusSA:        o.PrometheusSA,
		PrometheusNamespace: o.PrometheusNamespace,
		PrometheusURL:       o.PrometheusURL,
		Probe:               o.Probe,
		MetricsURL:          o.MetricsURL,
		Now:                 o.now(),
		RESTConfig:          cfg,
		Checks:              o.checks,
	}
}

// checkOperators checks the operator of one cluster, or with -A every
// operator listed there (each as status checks one). The error says the
// cluster could not be looked at, or that it holds several operators and
// none was named.
func (o *StatusOptions) checkOperators(ctx context.Context, clients kube.Clients, namespace string, cfg *rest.Config) ([]*operatorResult, error) {
	opts := o.statusOptions(namespace, cfg)
	if !o.AllNamespaces {
		report, err := status.Run(ctx, clients, opts)
		if err != nil {
			return nil, ambiguityHint(err)
		}
		return []*operatorResult{o.result(report)}, nil
	}
	found, err := operator.List(ctx, clients.Kube, "", operator.DefaultSelectors())
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		// As status without -A: the default install, else a failed
		// operator.found that says what was looked for.
		report, err := status.Run(ctx, clients, opts)
		if err != nil {
			return nil, err
		}
		return []*operatorResult{o.result(report)}, nil
	}
	var results []*operatorResult
	for _, ref := range slices.Sorted(maps.Keys(found)) {
		opts.StatefulSet = found[ref]
		report, err := status.Run(ctx, clients, opts)
		if err != nil {
			return nil, err
		}
		results = append(results, o.result(report))
	}
	return results, nil
}

// ambiguityHint adds -A to what to do when several operators were found.
func ambiguityHint(err error) error {
	if errors.As(err, new(*operator.AmbiguousError)) {
		return fmt.Errorf("%w, or check them all with -A", err)
	}
	return err
}

// runAllNamespaces is status -A on one cluster.
func (o *StatusOptions) runAllNamespaces(ctx context.Context) error {
	results, err := o.checkOperators(ctx, o.clients, "", o.restConfig)
	if err != nil {
		return err
	}
	if err := o.renderResults(results); err != nil {
		return err
	}
	return exitOf(results)
}

// exitOf is the worst exit code of the results: 2 over 1 over 0.
func exitOf(results []*operatorResult) error {
	code := 0
	for _, r := range results {
		code = max(code, r.exitCode())
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// renderResults prints the results of -A: a list for -o json|yaml|jsonpath,
// else one section per operator.
func (o *StatusOptions) renderResults(results []*operatorResult) error {
	if o.printer != nil {
		return o.printList(results)
	}
	st := style{color: o.color.enabled(o.Out)}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(o.Out)
		}
		heading := r.Report.Operator
		if heading == "" {
			heading = "(no operator found)"
		}
		fmt.Fprintf(o.Out, "%s\n%s\n", heading, strings.Repeat("=", len(heading)))
		if err := renderTable(o.Out, r.Report, st, o.Output == "wide"); err != nil {
			return err
		}
	}
	return nil
}

// printList prints the results as one JSON (or YAML) list.
func (o *StatusOptions) printList(results []*operatorResult) error {
	if results == nil {
		results = []*operatorResult{}
	}
	raw, err := json.Marshal(results)
	if err != nil {
		return err
	}
	return o.printer.PrintObj(&runtime.Unknown{Raw: raw}, o.Out)
}

// fleetTarget is one context to check.
type fleetTarget struct{ context, server string }

// completeFleet picks the contexts from the kubeconfig: those of
// --contexts (each must exist), or every one that --context-selector
// matches.
func (o *StatusOptions) completeFleet() error {
	raw, err := o.configFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("cannot read the kubeconfig: %w: check --kubeconfig", err)
	}
	all := slices.Sorted(maps.Keys(raw.Contexts))
	var names []string
	switch {
	case len(o.Contexts) > 0:
		for _, name := range o.Contexts {
			if _, ok := raw.Contexts[name]; !ok {
				return fmt.Errorf("unknown context %q in --contexts: the kubeconfig has %s (kubectl config get-contexts lists them)", name, quoteList(all))
			}
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	case o.ContextSelector != "":
		if _, err := path.Match(o.ContextSelector, ""); err != nil {
			return fmt.Errorf("invalid --context-selector %q: %v: use a glob such as 'prod-*'", o.ContextSelector, err)
		}
		for _, name := range all {
			if ok, _ := path.Match(o.ContextSelector, name); ok {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("--context-selector %q matches none of the contexts of the kubeconfig (%s): fix the glob", o.ContextSelector, quoteList(all))
		}
	default:
		names = all
		if len(names) == 0 {
			return errors.New("the kubeconfig has no contexts: check --kubeconfig")
		}
	}
	o.targets = nil
	for _, name := range names {
		t := fleetTarget{context: name}
		if c := raw.Clusters[raw.Contexts[name].Cluster]; c != nil {
			t.server = strings.TrimSuffix(c.Server, "/")
		}
		o.targets = append(o.targets, t)
	}
	return nil
}

func quoteList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// contextFlags are kubectl's flags with another context: the kubeconfig,
// -n, impersonation and the transport flags stay; the cluster and user are
// those of the context.
func (o *StatusOptions) contextFlags(name string) *genericclioptions.ConfigFlags {
	f := o.configFlags
	c := genericclioptions.NewConfigFlags(false)
	c.KubeConfig, c.CacheDir, c.Namespace = f.KubeConfig, f.CacheDir, f.Namespace
	c.Impersonate, c.ImpersonateUID, c.ImpersonateGroup, c.ImpersonateUserExtra = f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra
	c.Insecure, c.DisableCompression, c.ProxyURL = f.Insecure, f.DisableCompression, f.ProxyURL
	c.WrapConfigFn = f.WrapConfigFn
	c.Context = &name
	// Each request is bounded too, should anything wait without the
	// context; a second later than the cluster's limit, so that the limit,
	// which names the flag to raise, is what ends a hung cluster.
	timeout := (o.ClusterTimeout + time.Second).String()
	if f.Timeout != nil && *f.Timeout != "" && *f.Timeout != "0" {
		timeout = *f.Timeout
	}
	c.Timeout = &timeout
	return c
}

// runFleet is status --contexts / --all-contexts: every cluster checked in
// parallel, each under --cluster-timeout; Ctrl-C stops them all and prints
// what finished.
func (o *StatusOptions) runFleet(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	perTarget := fleet.Run(ctx, len(o.targets), o.Parallel, o.ClusterTimeout, func(ctx context.Context, i int) []*operatorResult {
		return o.checkContext(ctx, o.targets[i])
	})
	var results []*operatorResult
	for _, rs := range perTarget {
		results = append(results, rs...)
	}
	if err := o.renderFleet(results); err != nil {
		return err
	}
	return exitOf(results)
}

// checkContext checks one cluster; what could not be checked is one
// result with the reason.
func (o *StatusOptions) checkContext(ctx context.Context, t fleetTarget) []*operatorResult {
	couldNot := func(reason string) []*operatorResult {
		return []*operatorResult{{Context: t.context, Server: t.server, Verdict: verdictCouldNotDo, Reason: reason}}
	}
	namespace, clients, cfg, err := clientsFrom(o.contextFlags(t.context), o.ErrOut)
	if err != nil {
		return couldNot(oneLine(err))
	}
	t.server = strings.TrimSuffix(cfg.Host, "/")
	results, err := o.checkOperators(ctx, clients, namespace, cfg)
	// A check cut short by the limit reads as a failure of its own: the
	// cluster was not checked, whatever the checks say.
	switch {
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return couldNot(fmt.Sprintf("no answer within --cluster-timeout %s from the API server at %s: check that the cluster is up, or raise --cluster-timeout", o.ClusterTimeout, t.server))
	case ctx.Err() != nil:
		return couldNot("interrupted before it finished")
	case err != nil:
		return couldNot(oneLine(errors.New(explainWith(err, target(t)))))
	}
	for _, r := range results {
		r.Context, r.Server = t.context, t.server
	}
	return results
}

// renderFleet prints a summary table of every operator, then the report of
// each that is not ready (or the reason it could not be checked); -o
// json|yaml|jsonpath a list of every result.
func (o *StatusOptions) renderFleet(results []*operatorResult) error {
	if o.printer != nil {
		return o.printList(results)
	}
	w := printers.GetNewTabWriter(o.Out)
	fmt.Fprintln(w, "CONTEXT\tOPERATOR\tECK\tMODE\tVERDICT\tFAILED")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range results {
		var ref, mode, failed string
		if r.Report != nil {
			ref, mode = r.Report.Operator, r.Report.Mode
		}
		ids := make([]string, len(r.Failed))
		for i, id := range r.Failed {
			ids[i] = string(id)
		}
		failed = strings.Join(ids, ",")
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Context, dash(ref), dash(r.Version), dash(mode), r.Verdict, dash(failed))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	st := style{color: o.color.enabled(o.Out)}
	for _, r := range results {
		if r.Verdict == verdictReady {
			continue
		}
		heading := "context " + r.Context
		if r.Report != nil && r.Report.Operator != "" {
			heading += ": " + r.Report.Operator
		}
		fmt.Fprintf(o.Out, "\n%s\n%s\n", heading, strings.Repeat("=", len(heading)))
		if r.Report == nil {
			fmt.Fprintf(o.Out, "could not check: %s\n", r.Reason)
			continue
		}
		if err := renderTable(o.Out, r.Report, st, o.Output == "wide"); err != nil {
			return err
		}
	}
	return nil
}
