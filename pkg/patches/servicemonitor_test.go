package patches

import "testing"

// ParseCAFile reads back what CAFile writes, and nothing else.
func TestParseCAFile(t *testing.T) {
	for caFile, want := range map[string]ServiceMonitorTLS{
		"/etc/prometheus/secrets/eck-metrics-ca/ca.crt": {CASecret: "eck-metrics-ca", CAMountDir: "/etc/prometheus/secrets"},
		"/certs/x/ca.crt": {CASecret: "x", CAMountDir: "/certs"},
		"/ca.crt":         {},
		"//ca.crt":        {},
		"./ca.crt":        {},
		"/etc/ca.pem":     {},
		"/etc/x/ca.crt/":  {},
		"":                {},
	} {
		got, ok := ParseCAFile(caFile)
		if got != want || ok != (want.CASecret != "") {
			t.Errorf("ParseCAFile(%q) = %+v, %v; want %+v", caFile, got, ok, want)
		}
	}
	for _, dir := range []string{DefaultCAMountDir, "/certs", "/a/b/c"} {
		if got, ok := ParseCAFile(CAFile(dir, "eck-ca")); !ok || got != (ServiceMonitorTLS{CASecret: "eck-ca", CAMountDir: dir}) {
			t.Errorf("ParseCAFile(CAFile(%q, eck-ca)) = %+v, %v", dir, got, ok)
		}
	}
}
