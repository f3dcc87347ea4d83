package operator

import (
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/eckconfig"
)

func TestChooseMetricsPort(t *testing.T) {
	health := map[int32]string{8081: `container port "health-probe" of container manager`, 8082: "a sidecar", 9443: "the webhook"}
	tests := []struct {
		name     string
		explicit int32
		eckYAML  string
		used     map[int32]string
		want     int32
		note     string
		err      string
	}{
		{"default free", 0, "metrics-port: 0\n", nil, 8081, "", ""},
		{"default taken: next free", 0, "metrics-port: 0\n", health, 8083, `metrics-port 8083 chosen: 8081 is container port "health-probe" of container manager`, ""},
		{"current kept", 0, "metrics-port: 9090\n", health, 9090, "metrics-port 9090 kept (set before)", ""},
		{"current default kept silently", 0, "metrics-port: 8081\n", nil, 8081, "", ""},
		{"current taken: next free", 0, "metrics-port: 9443\n", health, 8083, `metrics-port 8083 chosen: 8081 is container port "health-probe" of container manager`, ""},
		{"explicit free", 9090, "", health, 9090, "", ""},
		{"explicit taken", 8081, "", health, 0, "", `--port 8081 collides with container port "health-probe" of container manager: pick a free port with --port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := eckconfig.Parse(tt.eckYAML)
			if err != nil {
				t.Fatal(err)
			}
			got, note, err := ChooseMetricsPort(tt.explicit, 8081, doc, tt.used)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || note != tt.note {
				t.Errorf("= %d %q %v, want %d %q", got, note, err, tt.want, tt.note)
			}
		})
	}
}
