// Package version holds the build version, stamped by -ldflags at release time.
package version

// Version is set with -X github.com/eck-metrics/kubectl-eck-metrics/pkg/version.Version=...
var Version = "dev"
