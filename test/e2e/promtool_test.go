//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScrapeConfigPromtool: the job `--local --scrape-config prometheus`
// renders, pasted under scrape_configs of a whole prometheus.yml, passes
// the real `promtool check config` (Prometheus 3.16.0's, which parses it
// strictly and checks that the credentials file exists, though not the
// scrape's ca_file: promtool runs in a private mount namespace holding the
// token at the job's path, as in Prometheus's pod). Broken renders are
// refused, so the check can fail.
// TestDenyFileAccess runs the job in a real Prometheus.
func TestScrapeConfigPromtool(t *testing.T) {
	dir := t.TempDir()
	tokenDir, caDir := filepath.Join(dir, "token"), filepath.Join(dir, "ca")
	writeFile(t, mkdir(t, tokenDir), "token", []byte("a-token"))
	writeFile(t, mkdir(t, caDir), "ca.crt", newCA(t).pem)
	token := mount{target: "/var/run/secrets/kubernetes.io/serviceaccount", source: tokenDir, readOnly: true}
	// Mounted as in the pod, though promtool does not read it.
	ca := mount{target: "/etc/prometheus/eck-ca/eck-metrics-ca", source: caDir, readOnly: true}

	insecure := mustPlugin(t, "enable", "--local", "--operator-version", "3.5.0", "--scrape-config", "prometheus").stdout
	verified := mustPlugin(t, "use-cert", "--local", "--operator-version", "3.5.0", "-n", "eck", "--secret", "eck-metrics-tls",
		"--ca-secret", "eck-metrics-ca", "--prometheus-namespace", "monitoring", "--ca-mount-dir", "/etc/prometheus/eck-ca",
		"--scrape-config", "prometheus").stdout
	if !strings.Contains(verified, "ca_file: /etc/prometheus/eck-ca/eck-metrics-ca/ca.crt") {
		t.Fatalf("the verified render names no ca_file under --ca-mount-dir:\n%s", verified)
	}

	for _, tc := range []struct {
		name   string
		job    string
		mounts []mount
		// want is "" for valid, else a part of promtool's refusal.
		want string
	}{
		{"insecure", insecure, []mount{token}, ""},
		{"verified with the CA", verified, []mount{token, ca}, ""},
		// Each of these must fail, or the check proves nothing.
		{"misspelt field", strings.Replace(insecure, "credentials_file:", "credential_file:", 1), []mount{token}, "field credential_file not found"},
		{"unknown discovery role", strings.Replace(insecure, "role: endpointslice", "role: endpointslices", 1), []mount{token}, "endpointslices"},
		{"token not mounted", insecure, nil, "serviceaccount/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := "global:\n  scrape_interval: 15s\nscrape_configs:\n" + tc.job
			file := writeFile(t, t.TempDir(), "prometheus.yml", []byte(conf))
			out, err := promtoolCheckConfig(t, file, tc.mounts)
			switch {
			case tc.want == "" && (err != nil || !strings.Contains(out, "SUCCESS")):
				t.Errorf("promtool check config refused the render: %v\n%s\n--- prometheus.yml ---\n%s", err, out, conf)
			case tc.want != "" && (err == nil || !strings.Contains(out, tc.want)):
				t.Errorf("promtool check config: %v, want a refusal naming %q:\n%s", err, tc.want, out)
			default:
				t.Logf("promtool check config: %v: %s", err, strings.TrimSpace(out))
			}
		})
	}
}

// promtoolCheckConfig runs `promtool check config` on file in a private
// mount namespace with the mounts (the kubelet's mountScript).
func promtoolCheckConfig(t *testing.T, file string, mounts []mount) (string, error) {
	t.Helper()
	root := mkdir(t, filepath.Join(t.TempDir(), "root"))
	cmd := exec.CommandContext(cluster.Context(t), "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", mountScript(mounts), "sh", root,
		binary("promtool"), "check", "config", file)
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
