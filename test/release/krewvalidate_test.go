package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// validateKrewManifestEnv names krew's own manifest validator,
// sigs.k8s.io/krew/cmd/validate-krew-manifest, built by the Makefile at the
// krew version hack/tools/krew pins (make krew-manifest-check sets it).
const validateKrewManifestEnv = "VALIDATE_KREW_MANIFEST"

// TestKrewManifestValidates runs krew's validation (the one krew-index runs
// on a pull request) on the manifest rendered from plugins/eck-metrics.yaml
// as krew-release-bot renders it. -skip-install: the archives the manifest
// names are not published yet (the sha256s are made up); the install from
// a real archive is TestSnapshotInstallsWithKrew's.
func TestKrewManifestValidates(t *testing.T) {
	validator := os.Getenv(validateKrewManifestEnv)
	if validator == "" {
		t.Skipf("needs %s (the path of krew's validate-krew-manifest): make krew-manifest-check sets it", validateKrewManifestEnv)
	}
	r, err := renderKrewTemplate(readFile(t, krewFile))
	if err != nil {
		t.Fatalf("%s: %v", krewFile, err)
	}
	if out, err := validateKrewManifest(t, validator, pluginName, r.manifest); err != nil {
		t.Fatalf("krew's validate-krew-manifest refuses the manifest rendered from %s: %v\n%s", krewFile, err, out)
	}

	// The validator must refuse what krew-index would: a manifest that
	// fails here shows the validation ran and is not a no-op.
	broken := map[string][]byte{
		"two platforms for linux/amd64": bytes.Replace(r.manifest, []byte("os: darwin\n        arch: amd64"), []byte("os: linux\n        arch: amd64"), 1),
		"a sha256 that is not one":      bytes.Replace(r.manifest, []byte("sha256: "), []byte("sha256: x"), 1),
	}
	for name, manifest := range broken {
		if bytes.Equal(manifest, r.manifest) {
			t.Fatalf("%s: the rendered manifest changed shape; update the broken case", name)
		}
		if out, err := validateKrewManifest(t, validator, pluginName, manifest); err == nil {
			t.Errorf("%s: validate-krew-manifest accepted it:\n%s", name, out)
		}
	}
}

// validateKrewManifest writes manifest to <plugin>.yaml (krew infers the
// plugin's name from the file's) and runs the validator on it.
func validateKrewManifest(t *testing.T, validator, plugin string, manifest []byte) (string, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), plugin+".yaml")
	if err := os.WriteFile(file, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(validator, "-manifest", file, "-skip-install").CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
