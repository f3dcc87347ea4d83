package cmd

import "testing"

func TestLocalEckConfig(t *testing.T) {
	for _, tc := range []struct {
		name, raw, text, record, err string
	}{
		{"eck.yaml", "metrics-port: 0\nkind-of-thing: 1\n", "metrics-port: 0\nkind-of-thing: 1\n", "", ""},
		{"the install's ConfigMap keeps enable's record",
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elastic-operator\n  annotations:\n    eck-metrics.kubectl.io/previous-settings: '{\"metrics-port\":\"0\"}'\ndata:\n  eck.yaml: |-\n    metrics-port: 8081\n",
			"metrics-port: 8081", `{"metrics-port":"0"}`, ""},
		{"a ConfigMap without the key", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  x: y\n", "", "", "ConfigMap other has no key eck.yaml"},
	} {
		text, record, err := localEckConfig([]byte(tc.raw), "eck.yaml")
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if text != tc.text || record != tc.record || gotErr != tc.err {
			t.Errorf("%s: %q %q %q, want %q %q %q", tc.name, text, record, gotErr, tc.text, tc.record, tc.err)
		}
	}
}
