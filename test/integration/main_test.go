// Package integration runs the real root command against a real
// kube-apiserver and etcd (envtest), on fixtures modelled on real ECK installs.
package integration

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

var update = flag.Bool("update", false, "rewrite golden files")

// cluster is the one control plane of this package (starting one costs
// seconds), started by TestMain.
var cluster *framework.Cluster

func TestMain(m *testing.M) {
	if os.Getenv(runPluginEnv) != "" {
		// A fresh process of the plugin, for the per-process benchmarks.
		os.Exit(cmd.Run(os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
	}
	flag.Parse()
	if testing.Short() {
		fmt.Println("integration tests need the test apiserver: skipped in -short mode")
		os.Exit(0)
	}
	os.Exit(runWithCluster(m))
}

func runWithCluster(m *testing.M) int {
	var err error
	cluster, err = framework.Start(framework.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = cluster.Stop() }()
	return m.Run()
}
