package eckconfig

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The settings the two documented procedures write (see pkg/patches).
var (
	nativeSettings = []Setting{
		{Key: "metrics-port", Value: "8081"},
		{Key: "metrics-host", Value: "0.0.0.0"},
		{Key: "metrics-secure", Value: "true"},
	}
	sidecarSettings = []Setting{
		{Key: "metrics-port", Value: "8081"},
		{Key: "metrics-host", Value: "127.0.0.1"},
	}
)

// docsNativeEckYAML (testdata/docs) is the eck.yaml of the ConfigMap on the documentation page
// "Securing the metrics endpoint" for ECK 2.16+ (the `|-` block, dedented).
var docsNativeEckYAML = readDocsEckYAML()

// readDocsEckYAML reads the file shared by the tests of eckconfig and patches.
func readDocsEckYAML() string {
	raw, err := os.ReadFile("../../testdata/docs/eck-native.yaml")
	if err != nil {
		panic(err)
	}
	return string(raw)
}

// docsSidecarEckYAML is the same file on the 2.12-2.15 page: metrics-host
// 127.0.0.1 and no metrics-secure line.
var docsSidecarEckYAML = strings.Replace(docsNativeEckYAML,
	"metrics-host: 0.0.0.0\nmetrics-secure: true\n", "metrics-host: 127.0.0.1\n", 1)

// allInOneEckYAML is what the all-in-one manifests install before metrics are
// enabled: the docs' file with metrics-port 0 and no metrics-host/-secure.
var allInOneEckYAML = strings.Replace(docsNativeEckYAML,
	"metrics-port: 8081\nmetrics-host: 0.0.0.0\nmetrics-secure: true\n", "metrics-port: 0\n", 1)

func TestDocsFixturesAreWhatTheTestsThinkTheyAre(t *testing.T) {
	// Guard against a silent no-op strings.Replace above.
	if docsSidecarEckYAML == docsNativeEckYAML || !strings.Contains(docsSidecarEckYAML, "metrics-host: 127.0.0.1\ncontainer-registry") {
		t.Fatalf("docsSidecarEckYAML was not derived:\n%s", docsSidecarEckYAML)
	}
	if allInOneEckYAML == docsNativeEckYAML || !strings.Contains(allInOneEckYAML, "log-verbosity: 0\nmetrics-port: 0\ncontainer-registry") {
		t.Fatalf("allInOneEckYAML was not derived:\n%s", allInOneEckYAML)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		settings []Setting
		want     string
		changes  []string
	}{
		{
			name:     "all-in-one eck.yaml to the native docs page, byte for byte",
			in:       allInOneEckYAML,
			settings: nativeSettings,
			want:     docsNativeEckYAML,
			changes:  []string{"metrics-port: 0 -> 8081", "metrics-host: 0.0.0.0 (added)", "metrics-secure: true (added)"},
		},
		{
			name:     "all-in-one eck.yaml to the sidecar docs page, byte for byte",
			in:       allInOneEckYAML,
			settings: sidecarSettings,
			want:     docsSidecarEckYAML,
			changes:  []string{"metrics-port: 0 -> 8081", "metrics-host: 127.0.0.1 (added)"},
		},
		{
			name:     "native docs page switched to sidecar settings edits only metrics-host and metrics-secure",
			in:       docsNativeEckYAML,
			settings: append(append([]Setting{}, sidecarSettings...), Setting{Key: "metrics-secure", Value: "false"}),
			want: strings.Replace(docsNativeEckYAML,
				"metrics-host: 0.0.0.0\nmetrics-secure: true\n", "metrics-host: 127.0.0.1\nmetrics-secure: false\n", 1),
			changes: []string{"metrics-host: 0.0.0.0 -> 127.0.0.1", "metrics-secure: true -> false"},
		},
		{
			name: "comments, full-line and trailing, are kept on edited and untouched keys",
			in: "# Managed by the platform team, see RUNBOOK-42\n" +
				"log-verbosity: 0\n" +
				"metrics-port: 0 # off until we have Prometheus\n" +
				"metrics-secure: false # TODO\n" +
				"max-concurrent-reconciles: 3 # raised after incident 1337\n" +
				"# keep in sync with the API server's timeout\n" +
				"kube-client-timeout: 60s\n",
			settings: nativeSettings,
			want: "# Managed by the platform team, see RUNBOOK-42\n" +
				"log-verbosity: 0\n" +
				"metrics-port: 8081 # off until we have Prometheus\n" +
				"metrics-host: 0.0.0.0\n" +
				"metrics-secure: true # TODO\n" +
				"max-concurrent-reconciles: 3 # raised after incident 1337\n" +
				"# keep in sync with the API server's timeout\n" +
				"kube-client-timeout: 60s\n",
			changes: []string{"metrics-port: 0 -> 8081", "metrics-host: 0.0.0.0 (added)", "metrics-secure: false -> true"},
		},
		{
			name: "key order kept: metrics-secure before metrics-port stays first, metrics-host goes after metrics-port",
			in: "metrics-secure: false\n" +
				"log-verbosity: 0\n" +
				"metrics-port: 0\n" +
				"ubi-only: false\n",
			settings: nativeSettings,
			want: "metrics-secure: true\n" +
				"log-verbosity: 0\n" +
				"metrics-port: 8081\n" +
				"metrics-host: 0.0.0.0\n" +
				"ubi-only: false\n",
			changes: []string{"metrics-port: 0 -> 8081", "metrics-host: 0.0.0.0 (added)", "metrics-secure: false -> true"},
		},
		{
			name: "metrics-port missing: it goes to the end, the keys after it follow it",
			in: "log-verbosity: 0\n" +
				"ubi-only: false\n",
			settings: nativeSettings,
			want: "log-verbosity: 0\n" +
				"ubi-only: false\n" +
				"metrics-port: 8081\n" +
				"metrics-host: 0.0.0.0\n" +
				"metrics-secure: true\n",
			changes: []string{"metrics-port: 8081 (added)", "metrics-host: 0.0.0.0 (added)", "metrics-secure: true (added)"},
		},
		{
			name: "only metrics-secure exists: new keys before it in the settings go to the end",
			in: "a: 1\n" +
				"metrics-secure: false\n" +
				"b: 2\n",
			settings: nativeSettings,
			want: "a: 1\n" +
				"metrics-secure: true\n" +
				"b: 2\n" +
				"metrics-port: 8081\n" +
				"metrics-host: 0.0.0.0\n",
			changes: []string{"metrics-port: 8081 (added)", "metrics-host: 0.0.0.0 (added)", "metrics-secure: false -> true"},
		},
		{
			name:     "empty file",
			in:       "",
			settings: nativeSettings,
			want:     "metrics-port: 8081\nmetrics-host: 0.0.0.0\nmetrics-secure: true",
			changes:  []string{"metrics-port: 8081 (added)", "metrics-host: 0.0.0.0 (added)", "metrics-secure: true (added)"},
		},
		{
			name:     "file of one newline keeps its trailing newline",
			in:       "\n",
			settings: sidecarSettings,
			want:     "metrics-port: 8081\nmetrics-host: 127.0.0.1\n",
			changes:  []string{"metrics-port: 8081 (added)", "metrics-host: 127.0.0.1 (added)"},
		},
		{
			name:     "comments-only file",
			in:       "# nothing configured yet\n# see the runbook\n",
			settings: sidecarSettings,
			want:     "# nothing configured yet\n# see the runbook\nmetrics-port: 8081\nmetrics-host: 127.0.0.1\n",
			changes:  []string{"metrics-port: 8081 (added)", "metrics-host: 127.0.0.1 (added)"},
		},
		{
			name:     "file without trailing newline stays without one",
			in:       "log-verbosity: 0\nmetrics-port: 0",
			settings: nativeSettings,
			want:     "log-verbosity: 0\nmetrics-port: 8081\nmetrics-host: 0.0.0.0\nmetrics-secure: true",
			changes:  []string{"metrics-port: 0 -> 8081", "metrics-host: 0.0.0.0 (added)", "metrics-secure: true (added)"},
		},
		{
			name:     "indented top-level keys: new keys get the same indentation",
			in:       "  log-verbosity: 0\n  metrics-port: 0\n  ubi-only: false\n",
			settings: nativeSettings,
			want:     "  log-verbosity: 0\n  metrics-port: 8081\n  metrics-host: 0.0.0.0\n  metrics-secure: true\n  ubi-only: false\n",
			changes:  []string{"metrics-port: 0 -> 8081", "metrics-host: 0.0.0.0 (added)", "metrics-secure: true (added)"},
		},
		{
			name:     "quoted values are replaced whole",
			in:       "metrics-port: \"0\"\nmetrics-host: '127.0.0.1' # local only\nmetrics-secure: \"false\"\n",
			settings: nativeSettings,
			want:     "metrics-port: 8081\nmetrics-host: 0.0.0.0 # local only\nmetrics-secure: true\n",
			changes:  []string{"metrics-port: 0 -> 8081", "metrics-host: 127.0.0.1 -> 0.0.0.0", "metrics-secure: false -> true"},
		},
		{
			name:     "empty quoted value is shown as \"\" in the change",
			in:       "metrics-host: \"\"\n",
			settings: []Setting{{Key: "metrics-host", Value: "0.0.0.0"}},
			want:     "metrics-host: 0.0.0.0\n",
			changes:  []string{`metrics-host: "" -> 0.0.0.0`},
		},
		{
			name: "multi-line values of keys we do not set are left alone",
			in: "log-verbosity: 0\n" +
				"metrics-port: 0\n" +
				"namespaces:\n" +
				"  - a\n" +
				"  - b\n" +
				"exposed-node-labels: [topology.kubernetes.io/.*,\n" +
				"  failure-domain.beta.kubernetes.io/.*]\n",
			settings: nativeSettings,
			want: "log-verbosity: 0\n" +
				"metrics-port: 8081\n" +
				"metrics-host: 0.0.0.0\n" +
				"metrics-secure: true\n" +
				"namespaces:\n" +
				"  - a\n" +
				"  - b\n" +
				"exposed-node-labels: [topology.kubernetes.io/.*,\n" +
				"  failure-domain.beta.kubernetes.io/.*]\n",
			changes: []string{"metrics-port: 0 -> 8081", "metrics-host: 0.0.0.0 (added)", "metrics-secure: true (added)"},
		},
		{
			name:     "document start marker is kept",
			in:       "---\nmetrics-port: 0\n",
			settings: sidecarSettings,
			want:     "---\nmetrics-port: 8081\nmetrics-host: 127.0.0.1\n",
			changes:  []string{"metrics-port: 0 -> 8081", "metrics-host: 127.0.0.1 (added)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			changes, err := d.Apply(tt.settings)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := d.String(); got != tt.want {
				t.Errorf("String() mismatch\n--- got ---\n%s\n--- want ---\n%s\n--- got (quoted) ---\n%q", got, tt.want, got)
			}
			if !reflect.DeepEqual(changes, tt.changes) {
				t.Errorf("changes = %q, want %q", changes, tt.changes)
			}
			// Get sees the new values, and the text really holds them.
			assertHolds(t, d, tt.settings)
			re, err := Parse(d.String())
			if err != nil {
				t.Fatalf("edited text does not parse again: %v\n%s", err, d.String())
			}
			assertHolds(t, re, tt.settings)
			assertYAMLHolds(t, d.String(), tt.settings)
			// Applying again is a no-op on the same document and on the re-parsed one.
			for _, doc := range []*Document{d, re} {
				before := doc.String()
				again, err := doc.Apply(tt.settings)
				if err != nil {
					t.Fatalf("second Apply: %v", err)
				}
				if len(again) != 0 {
					t.Errorf("second Apply changed %q", again)
				}
				if doc.String() != before {
					t.Errorf("second Apply changed the text:\n%s", doc.String())
				}
			}
		})
	}
}

func assertHolds(t *testing.T, d *Document, settings []Setting) {
	t.Helper()
	for _, s := range settings {
		if v, ok := d.Get(s.Key); !ok || v != s.Value {
			t.Errorf("Get(%q) = %q, %v; want %q, true", s.Key, v, ok, s.Value)
		}
	}
}

// assertYAMLHolds decodes the text with a plain YAML decoder, independent of
// the Document's own bookkeeping.
func assertYAMLHolds(t *testing.T, text string, settings []Setting) {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatalf("edited text is not valid YAML: %v\n%s", err, text)
	}
	for _, s := range settings {
		got, ok := m[s.Key]
		if !ok {
			t.Errorf("decoded YAML has no %q:\n%s", s.Key, text)
			continue
		}
		// Compare through YAML so "8081" matches 8081 (int) and "true" true (bool).
		var want map[string]any
		if err := yaml.Unmarshal([]byte(s.Key+": "+s.Value), &want); err != nil {
			t.Fatalf("setting %s=%s is not YAML: %v", s.Key, s.Value, err)
		}
		if !reflect.DeepEqual(got, want[s.Key]) {
			t.Errorf("decoded %q = %#v, want %#v", s.Key, got, want[s.Key])
		}
	}
}

func TestApplyNoOp(t *testing.T) {
	for name, in := range map[string]string{
		"native docs page":   docsNativeEckYAML,
		"with comments":      "# c\nmetrics-port: 8081 # port\n\nmetrics-host: 0.0.0.0\n# tail\nmetrics-secure: true\n",
		"odd spacing/quotes": "metrics-port:    8081\nmetrics-host: \"0.0.0.0\"\nmetrics-secure:\ttrue\n",
	} {
		t.Run(name, func(t *testing.T) {
			d, err := Parse(in)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := d.Apply(nativeSettings)
			if err != nil {
				t.Fatal(err)
			}
			if changes != nil {
				t.Errorf("changes = %q, want none (nil)", changes)
			}
			if d.String() != in {
				t.Errorf("text changed:\n%q\nwant\n%q", d.String(), in)
			}
		})
	}
}

func TestApplyTwiceTracksInsertedLines(t *testing.T) {
	// Insertions shift the recorded lines of the keys below them; a second
	// Apply on the same Document must still edit the right lines.
	d, err := Parse("log-verbosity: 0\nmetrics-port: 0\nmetrics-secure: false # was off\nubi-only: false\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(nativeSettings); err != nil {
		t.Fatal(err)
	}
	changes, err := d.Apply([]Setting{{Key: "metrics-host", Value: "127.0.0.1"}, {Key: "metrics-secure", Value: "false"}, {Key: "ubi-only", Value: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "log-verbosity: 0\nmetrics-port: 8081\nmetrics-host: 127.0.0.1\nmetrics-secure: false # was off\nubi-only: true\n"
	if d.String() != want {
		t.Errorf("got\n%s\nwant\n%s", d.String(), want)
	}
	wantChanges := []string{"metrics-host: 0.0.0.0 -> 127.0.0.1", "metrics-secure: true -> false", "ubi-only: false -> true"}
	if !reflect.DeepEqual(changes, wantChanges) {
		t.Errorf("changes = %q, want %q", changes, wantChanges)
	}
}

func TestApplyKeepsCRLFLinesItDoesNotTouch(t *testing.T) {
	in := "log-verbosity: 0\r\nmetrics-port: 0\r\nubi-only: false\r\n"
	d, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(nativeSettings); err != nil {
		t.Fatal(err)
	}
	out := d.String()
	for _, line := range []string{"log-verbosity: 0\r\n", "ubi-only: false\r\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("untouched line %q lost its bytes:\n%q", line, out)
		}
	}
	assertYAMLHolds(t, out, nativeSettings)
}

func TestGet(t *testing.T) {
	d, err := Parse("# head\n" +
		"metrics-port: 8081 # the port\n" +
		"metrics-host: \"0.0.0.0\"\n" +
		"empty:\n" +
		"nested:\n" +
		"  metrics-port: 1\n" +
		"list: [a, b]\n" +
		"block: |\n" +
		"  text\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"metrics-port", "8081", true},
		{"metrics-host", "0.0.0.0", true},
		{"empty", "", true},
		{"block", "text\n", true},
		{"nested", "", false},
		{"list", "", false},
		{"missing", "", false},
		{"head", "", false},
	}
	for _, tt := range tests {
		got, ok := d.Get(tt.key)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.wantOK)
		}
	}
	empty, err := Parse("")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := empty.Get("metrics-port"); ok || v != "" {
		t.Errorf("Get on empty file = %q, %v", v, ok)
	}
}

func TestStringWithoutApply(t *testing.T) {
	for _, in := range []string{
		"",
		"\n",
		"# only a comment",
		"# only a comment\n",
		"a: 1",
		"a: 1\n",
		"a: 1\n\n\n",
		"  a: 1\n  b: [x, y]\n",
		docsNativeEckYAML,
	} {
		d, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		// Blank-only text has no content to keep; "\n" stays "" until a key is added.
		want := in
		if strings.TrimSpace(in) == "" {
			want = ""
		}
		if got := d.String(); got != want {
			t.Errorf("Parse(%q).String() = %q", in, got)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		errPart string
	}{
		{"invalid YAML: unclosed flow sequence", "metrics-port: [1, 2\n", "not valid YAML"},
		{"invalid YAML: mapping in a plain scalar", "metrics-port: a: b\n", "not valid YAML"},
		{"invalid YAML: bad indentation", "a: 1\n  b: 2\n", "not valid YAML"},
		{"list at top level", "- metrics-port: 8081\n- metrics-host: 0.0.0.0\n", "not a mapping"},
		{"scalar at top level", "just text\n", "not a mapping"},
		{"flow mapping", "{a: 1}\n", "flow mapping"},
		{"flow mapping over lines", "{metrics-port: 0,\n metrics-host: x}\n", "flow mapping"},
		{"two documents", "a: 1\n---\nb: 2\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse accepted it:\n%s", d)
			}
			if !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("error %q does not say %q", err, tt.errPart)
			}
		})
	}
}

func TestParseRefusesDuplicateKeys(t *testing.T) {
	in := "metrics-port: 0\nlog-verbosity: 0\nmetrics-port: 9000\n"
	// Apply would edit only the first while the operator reads the last:
	// the edit would silently do nothing. Refuse.
	_, err := Parse(in)
	if err == nil {
		t.Fatal("Parse accepted duplicate top-level keys")
	}
	if !strings.Contains(err.Error(), "metrics-port") {
		t.Errorf("error %q does not name the duplicate key", err)
	}
}

func TestApplyRefusesMultiLineValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"literal block scalar", "metrics-host: |\n  0.0.0.0\n"},
		{"literal block scalar, strip", "metrics-host: |-\n  0.0.0.0\nubi-only: false\n"},
		{"folded block scalar", "metrics-host: >\n  0.0.0.0\n"},
		{"nested map", "metrics-host:\n  ip: 0.0.0.0\n"},
		{"block sequence", "metrics-host:\n  - 0.0.0.0\n"},
		{"flow sequence", "metrics-host: [0.0.0.0]\n"},
		{"value on the next line", "metrics-host:\n  0.0.0.0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			changes, err := d.Apply(sidecarSettings)
			if err == nil {
				t.Fatalf("Apply accepted it; changes %q, text:\n%s", changes, d)
			}
			if !strings.Contains(err.Error(), "metrics-host") || !strings.Contains(err.Error(), "line 1") {
				t.Errorf("error %q should name metrics-host and its line", err)
			}
			if changes != nil {
				t.Errorf("changes = %q on error", changes)
			}
		})
	}
}

func TestApplyMultiLinePlainAndQuotedScalars(t *testing.T) {
	// A plain or double-quoted scalar may continue on the next lines while
	// starting on the key's line. Editing only the key's line would leave the
	// continuation behind and silently produce another value: refuse.
	for name, in := range map[string]string{
		"plain scalar continued":  "metrics-host: 0.0.\n  0.0\nubi-only: false\n",
		"quoted scalar continued": "metrics-host: \"0.0.\n  0.0\"\nubi-only: false\n",
	} {
		t.Run(name, func(t *testing.T) {
			d, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = d.Apply(sidecarSettings)
			if err == nil || !strings.Contains(err.Error(), "metrics-host (line 1) is not a one-line value") {
				t.Errorf("Apply err = %v, want a refusal; result %q", err, d.String())
			}
		})
	}
}

func TestApplyEmptyValue(t *testing.T) {
	// `metrics-host:` with nothing after it is a null value on the key's line.
	for in, want := range map[string]string{
		"metrics-host:\nubi-only: false\n":         "metrics-host: 0.0.0.0\nubi-only: false\n",
		"metrics-host: ~\nubi-only: false\n":       "metrics-host: 0.0.0.0\nubi-only: false\n",
		"metrics-host: # unset\nubi-only: false\n": "metrics-host: 0.0.0.0 # unset\nubi-only: false\n",
		"metrics-host: \"\"\nubi-only: false\n":    "metrics-host: 0.0.0.0\nubi-only: false\n",
	} {
		t.Run(in, func(t *testing.T) {
			d, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if _, err := d.Apply([]Setting{{Key: "metrics-host", Value: "0.0.0.0"}}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if d.String() != want {
				t.Errorf("got %q, want %q", d.String(), want)
			}
			var m map[string]any
			if err := yaml.Unmarshal([]byte(d.String()), &m); err != nil || m["metrics-host"] != "0.0.0.0" || m["ubi-only"] != false {
				t.Errorf("result %q decodes to %v (%v)", d.String(), m, err)
			}
		})
	}
}
