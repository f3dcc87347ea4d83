package cmd

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// CompletionHelperName is the executable kubectl (1.26 and later) runs to
// complete "kubectl eck-metrics ...": kubectl_complete-<plugin>, on PATH.
const CompletionHelperName = "kubectl_complete-eck_metrics"

// Completion helpers: each hands the words kubectl passes to cobra's
// __complete. The POSIX one is scripts/kubectl_complete-eck_metrics, which
// make install installs.
const (
	completionHelperSh = `#!/usr/bin/env sh
# kubectl (1.26+) runs kubectl_complete-<plugin> to complete "kubectl eck-metrics ...":
# hand the words to the plugin's own cobra completion.
exec kubectl-eck_metrics __complete "$@"
`
	completionHelperCmd = "@kubectl-eck_metrics.exe __complete %*\r\n"
)

const completionLong = `Complete "kubectl eck-metrics ..." in your shell: commands, flags, and flag
values, several read from the cluster (-n, --context, --name, --issuer,
--secret, --prometheus-namespace).

kubectl completes a plugin through kubectl's own completion: for
"kubectl eck-metrics <TAB>" it runs the executable ` + CompletionHelperName + `
found on PATH (kubectl 1.26 and later). "make install" installs it next to
kubectl-eck_metrics; krew does not put it on PATH: write it with this
command (sh for Linux and macOS, cmd for Windows) into a directory on PATH.

Then enable kubectl's completion in your shell, once:

  bash:        source <(kubectl completion bash)       # in ~/.bashrc
  zsh:         source <(kubectl completion zsh)        # in ~/.zshrc
  fish:        kubectl completion fish | source        # in ~/.config/fish/config.fish
  powershell:  kubectl completion powershell | Out-String | Invoke-Expression   # in $PROFILE

There is no script of the plugin to source: a shell completes
"kubectl eck-metrics", never "kubectl-eck_metrics" alone.`

const completionExample = `  # Linux and macOS: write the helper next to the plugin on PATH (krew's bin directory for a krew install)
  kubectl eck-metrics completion > "$(dirname "$(command -v kubectl-eck_metrics)")/kubectl_complete-eck_metrics"
  chmod +x "$(dirname "$(command -v kubectl-eck_metrics)")/kubectl_complete-eck_metrics"

  # Windows (PowerShell): the same as a .cmd file next to kubectl-eck_metrics.exe
  kubectl eck-metrics completion cmd | Out-File -Encoding ascii "$(Split-Path (Get-Command kubectl-eck_metrics).Source)\kubectl_complete-eck_metrics.cmd"

  # Then, in bash
  source <(kubectl completion bash)
  kubectl eck-metrics enable --name <TAB>`

// NewCmdCompletion is "kubectl eck-metrics completion [sh|cmd]": it prints
// the helper kubectl runs, and explains the rest.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:       "completion [sh|cmd]",
		Short:     "Print " + CompletionHelperName + ", through which kubectl completes this plugin",
		Long:      completionLong,
		Example:   completionExample,
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: []string{"sh", "cmd"},
		RunE: func(_ *cobra.Command, args []string) error {
			kind := "sh"
			if len(args) == 1 {
				kind = args[0]
			}
			switch kind {
			case "sh":
				_, err := io.WriteString(streams.Out, completionHelperSh)
				return err
			case "cmd":
				_, err := io.WriteString(streams.Out, completionHelperCmd)
				return err
			case "bash", "zsh", "fish", "powershell":
				return fmt.Errorf("kubectl completes its plugins: run \"source <(kubectl completion %s)\" (see kubectl completion --help) and put %s on PATH (kubectl eck-metrics completion --help)", kind, CompletionHelperName)
			}
			return fmt.Errorf("invalid argument %q: use sh (Linux, macOS) or cmd (Windows)", kind)
		},
	}
}

// completionTimeout bounds the API calls of one completion: a shell waits
// on it, and an unreachable cluster must not hang the prompt.
const completionTimeout = 5 * time.Second

// registerCompletions completes the values of the flags that name cluster
// objects (from the cluster the kubeconfig flags given so far point at) and
// the kubeconfig's contexts, clusters and users, on every command.
func registerCompletions(root *cobra.Command, configFlags *genericclioptions.ConfigFlags) {
	c := clusterCompleter{configFlags: configFlags}
	_ = root.RegisterFlagCompletionFunc("namespace", c.namespaces)
	_ = root.RegisterFlagCompletionFunc("context", c.kubeconfig(func(k clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(k.Contexts)) }))
	_ = root.RegisterFlagCompletionFunc("cluster", c.kubeconfig(func(k clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(k.Clusters)) }))
	_ = root.RegisterFlagCompletionFunc("user", c.kubeconfig(func(k clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(k.AuthInfos)) }))
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		flags := cmd.LocalNonPersistentFlags()
		for flag, complete := range map[string]cobra.CompletionFunc{
			"name":                 c.operatorNames,
			"issuer":               c.issuers,
			"prometheus-namespace": c.namespaces,
			"contexts":             c.kubeconfig(func(k clientcmdapi.Config) []string { return slices.Sorted(maps.Keys(k.Contexts)) }),
		} {
			if flags.Lookup(flag) != nil {
				_ = cmd.RegisterFlagCompletionFunc(flag, complete)
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// clusterCompleter completes from the kubeconfig and the cluster that
// kubectl's flags (as parsed so far on the command line) select.
type clusterCompleter struct {
	configFlags *genericclioptions.ConfigFlags
}

// clients builds the clients of the flags given so far; errors complete
// nothing (a completion has no place to report them).
func (c clusterCompleter) clients(cmd *cobra.Command) (context.Context, context.CancelFunc, string, kube.Clients, bool) {
	namespace, clients, _, err := clientsFrom(c.configFlags, io.Discard)
	if err != nil {
		return nil, nil, "", clients, false
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	return ctx, cancel, namespace, clients, true
}

func (c clusterCompleter) namespaces(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel, _, clients, ok := c.clients(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	list, err := clients.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// operatorNames are the ECK operator StatefulSets of -n, else of every
// namespace; one outside the default namespace says that it needs -n (as
// --name without -n looks in the default namespace).
func (c clusterCompleter) operatorNames(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel, namespace, clients, ok := c.clients(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	found, err := operator.List(ctx, clients.Kube, namespace, operator.DefaultSelectors())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, sts := range found {
		if !strings.HasPrefix(sts.Name, toComplete) {
			continue
		}
		switch {
		case namespace != "" || sts.Namespace == operator.DefaultNamespace:
			names = append(names, sts.Name+"\tECK operator in namespace "+sts.Namespace)
		default:
			names = append(names, sts.Name+"\tECK operator in namespace "+sts.Namespace+": add -n "+sts.Namespace)
		}
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}

// issuers are the cert-manager Issuers of the operator's namespace and the
// ClusterIssuers; without --issuer-kind, a ClusterIssuer says that it needs
// --issuer-kind ClusterIssuer.
func (c clusterCompleter) issuers(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel, namespace, clients, ok := c.clients(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	kind := patches.IssuerKind
	kindGiven := false
	if f := cmd.Flags().Lookup("issuer-kind"); f != nil && f.Changed {
		kind, kindGiven = f.Value.String(), true
	}
	var names []string
	if kind == patches.IssuerKind {
		if namespace == "" {
			// The Issuer must be in the operator's namespace.
			namespace = operator.DefaultNamespace
			if op, err := operator.Find(ctx, clients.Kube, "", "", operator.DefaultSelectors()); err == nil {
				namespace = op.Namespace()
			}
		}
		if list, err := clients.Dynamic.Resource(patches.IssuerGVR).Namespace(namespace).List(ctx, metav1.ListOptions{}); err == nil {
			for _, i := range list.Items {
				names = append(names, i.GetName()+"\tIssuer in namespace "+namespace)
			}
		}
	}
	if kind == patches.ClusterIssuerKind || !kindGiven {
		note := ""
		if !kindGiven {
			note = ": add --issuer-kind " + patches.ClusterIssuerKind
		}
		if list, err := clients.Dynamic.Resource(patches.ClusterIssuerGVR).List(ctx, metav1.ListOptions{}); err == nil {
			for _, i := range list.Items {
				names = append(names, i.GetName()+"\t"+patches.ClusterIssuerKind+note)
			}
		}
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// kubeconfig completes names the kubeconfig declares (--kubeconfig, else
// KUBECONFIG, else ~/.kube/config); it contacts nothing.
func (c clusterCompleter) kubeconfig(names func(clientcmdapi.Config) []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		raw, err := c.configFlags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return withPrefix(names(raw), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// checkCompletions are status --check's values: every category (each runs
// its checks) and every check ID.
func checkCompletions(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, c := range status.Categories() {
		out = append(out, string(c)+"\tevery check of category "+string(c))
	}
	out = append(out, checkIDNames()...)
	return withPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// withPrefix keeps the completions (NAME or NAME<TAB>DESCRIPTION) whose
// name starts with prefix.
func withPrefix(completions []string, prefix string) []string {
	var out []string
	for _, c := range completions {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}
