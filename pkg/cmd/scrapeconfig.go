package cmd

import (
	"fmt"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/render"
	"github.com/prometheus/common/model"
)

// renderScrapeJob prints, for --local --scrape-config prometheus, the
// scrape_configs job that scrapes the metrics Service of the install, and
// on stderr what that Prometheus needs besides.
func (o *EnableOptions) renderScrapeJob(op *operator.Operator, tls patches.ServiceMonitorTLS) error {
	// --interval and --scrape-timeout, validated with the monitor's flags.
	interval, timeout := o.monitor.Interval, o.monitor.ScrapeTimeout
	if interval == "" {
		interval = patches.DefaultScrapeInterval
	}
	opts := render.ScrapeJobOptions{Namespace: op.Namespace(), Name: op.Name(), TLS: tls}
	for _, d := range []struct {
		flag, value string
		into        *time.Duration
	}{{"interval", interval, &opts.Interval}, {"scrape-timeout", timeout, &opts.ScrapeTimeout}} {
		if d.value == "" {
			continue
		}
		parsed, err := model.ParseDuration(d.value)
		if err != nil {
			return fmt.Errorf("invalid --%s %q: %v", d.flag, d.value, err)
		}
		*d.into = time.Duration(parsed)
	}
	out, err := render.PrometheusScrapeJob(opts)
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
