// Command kubectl-eck_metrics is the kubectl plugin "kubectl eck-metrics".
package main

import (
	"os"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func main() {
	os.Exit(cmd.Run(os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
