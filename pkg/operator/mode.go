package operator

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// Mode is how the metrics endpoint is secured.
type Mode string

const (
	// ModeNative: the operator serves HTTPS with authn/authz itself (ECK >= 2.16).
	ModeNative Mode = "native"
	// ModeSidecar: a kube-rbac-proxy sidecar secures a plain local endpoint (ECK 2.12 - 2.15).
	ModeSidecar Mode = "sidecar"
)

var (
	minSidecar = version.MustParseSemantic("2.12.0")
	minNative  = version.MustParseSemantic("2.16.0")
	// From 3.6 the health probes listen on :8081 by default.
	minHealthProbe8081 = version.MustParseSemantic("3.6.0")
)

// ParseMode checks a --mode value ("" means choose by version).
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeNative, ModeSidecar:
		return Mode(s), nil
	}
	return "", fmt.Errorf("unknown --mode %q: use native or sidecar", s)
}

// ChooseMode picks the documented procedure for the version; override, when
// set, wins where the version allows it.
func ChooseMode(v *version.Version, override Mode) (Mode, error) {
	if v == nil {
		if override == "" {
			return "", fmt.Errorf("cannot tell the ECK version from the operator image: pass --mode native (ECK >= 2.16) or --mode sidecar (ECK 2.12-2.15)")
		}
		return override, nil
	}
	if v.LessThan(minSidecar) {
		return "", fmt.Errorf("ECK %s is not supported: securing the metrics endpoint needs ECK 2.12 or later; upgrade the operator first", v)
	}
	switch override {
	case ModeNative:
		if v.LessThan(minNative) {
			return "", fmt.Errorf("--mode native needs ECK 2.16 or later (this operator is %s, which has no metrics-secure setting): use --mode sidecar", v)
		}
		return ModeNative, nil
	case ModeSidecar:
		return ModeSidecar, nil
	}
	if v.LessThan(minNative) {
		return ModeSidecar, nil
	}
	return ModeNative, nil
}

// HealthProbeDefault8081 tells whether the version's health probes default to :8081.
func HealthProbeDefault8081(v *version.Version) bool {
	return v != nil && v.AtLeast(minHealthProbe8081)
}

// versionFlag is what --operator-version accepts: MAJOR.MINOR with an
// optional patch and an optional leading v.
var versionFlag = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?$`)

// ParseVersion reads an ECK version as users type it (3.5, 3.5.0,
// v3.5.0) into a full MAJOR.MINOR.PATCH version (3.5 is 3.5.0), the form
// image tags and the version checks need.
func ParseVersion(s string) (*version.Version, error) {
	m := versionFlag.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, fmt.Errorf("%q is not an ECK version: use MAJOR.MINOR[.PATCH], e.g. 3.5 or 3.5.0", s)
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	return version.ParseSemantic(m[1] + "." + m[2] + "." + patch)
}
