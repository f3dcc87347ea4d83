package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// --local --scrape-config prometheus renders a scrape job for a Prometheus
// that prometheus-operator does not run, without a single API request.
// test/e2e runs the render through promtool check config.
func TestScrapeConfigGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
		stderr string
	}{
		{"prometheus-insecure.yaml", []string{"enable", "--local", "--operator-version", "3.5.0", "--scrape-config", "prometheus"},
			"Rendered a Prometheus scrape job for Service elastic-system/elastic-operator-metrics port https"},
		{"prometheus-interval.yaml", []string{"enable", "--local", "--operator-version", "3.5.0", "--scrape-config", "prometheus", "--interval", "1m", "--scrape-timeout", "20s"},
			"Rendered a Prometheus scrape job"},
		{"prometheus-ca.yaml", []string{"use-cert", "--local", "--operator-version", "2.15.0", "-n", "eck", "--name", "my-eck", "--secret", "eck-metrics-tls",
			"--ca-secret", "eck-metrics-ca", "--prometheus-namespace", "monitoring", "--ca-mount-dir", "/etc/prometheus/ca", "--scrape-config", "prometheus"},
			"Prometheus reads the CA at /etc/prometheus/ca/eck-metrics-ca/ca.crt: mount secret eck-metrics-ca there"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := mustSucceed(t, cluster.Run(t, tc.args...))
			if r.Requests != 0 {
				t.Errorf("--local sent %d API requests", r.Requests)
			}
			if !strings.Contains(r.Stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.Stderr)
			}
			compareGolden(t, filepath.Join("scrape-config", tc.golden), r.Stdout)
		})
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enable", "--local", "--operator-version", "2.11.0", "--scrape-config", "prometheus"}, "ECK 2.11.0 is not supported"},
	} {
		r := cluster.Run(t, tc.args...)
		if r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) || strings.Contains(r.Err.Error(), "\n") || r.Requests != 0 || r.Stdout != "" {
			t.Errorf("%v: err = %v (requests %d, stdout %q), want one line with %q", tc.args, r.Err, r.Requests, r.Stdout, tc.want)
		}
	}
}
