package cmd

import (
	"fmt"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/steps"
)

// scrapeInterval is the job's interval, the ServiceMonitor's.
const scrapeInterval = 30 * time.Second

// renderScrapeJob prints, for --local --scrape-config prometheus, the
// scrape_configs job that scrapes the metrics Service of the install, and
// on stderr what that Prometheus needs besides.
func (o *EnableOptions) renderScrapeJob(op *operator.Operator, tls patches.ServiceMonitorTLS) error {
	out, err := steps.PrometheusScrapeJob(steps.ScrapeJobOptions{Namespace: op.Namespace(), Name: op.Name(), Interval: scrapeInterval, TLS: tls})
	if err != nil {
		return err
	}
	service := patches.ServiceName(op.Name())
	fmt.Fprintf(o.ErrOut, "Rendered a Prometheus scrape job for Service %s/%s port %s (paste it under scrape_configs:); nothing was sent to a cluster\n",
		op.Namespace(), service, patches.ServicePortName)
	fmt.Fprintf(o.ErrOut, "Prometheus's ServiceAccount needs list/watch on services, pods and endpointslices (discovery.k8s.io) in %s, and get on the non-resource URL /metrics\n", op.Namespace())
	if tls.CASecret != "" {
		fmt.Fprintf(o.ErrOut, "Prometheus reads the CA at %s/%s/%s: mount secret %s there\n", tlsMountDir(tls), tls.CASecret, patches.CAKey, tls.CASecret)
	}
	_, err = o.Out.Write(out)
	return err
}

func tlsMountDir(tls patches.ServiceMonitorTLS) string {
	if tls.CAMountDir == "" {
		return patches.DefaultCAMountDir
	}
	return tls.CAMountDir
}
