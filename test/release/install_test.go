package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// The tools the install test runs, built by the Makefile (make
// release-install passes their paths).
const (
	goreleaserEnv = "GORELEASER"
	krewEnv       = "KREW"
	kubectlEnv    = "KUBECTL"
)

// TestSnapshotInstallsWithKrew is a release as a user meets it: goreleaser
// makes a snapshot release of linux/amd64 from .goreleaser.yaml, real krew
// installs it from goreleaser's manifest and archive into an empty
// KREW_ROOT, and real kubectl runs the plugin from krew's bin directory.
//
// goreleaser (OSS v2.16) cannot narrow "release" to one target from the
// command line (--single-target is for "build", which makes no archives or
// krew manifest; --split is Pro), so the test releases from a copy of
// .goreleaser.yaml whose only changes are goos/goarch and dist (a temporary
// directory). All six targets are checked by "goreleaser check" (make
// release-check) and the static tests in this package.
func TestSnapshotInstallsWithKrew(t *testing.T) {
	goreleaser, krew, kubectl := os.Getenv(goreleaserEnv), os.Getenv(krewEnv), os.Getenv(kubectlEnv)
	if goreleaser == "" && krew == "" && kubectl == "" {
		t.Skipf("needs %s, %s and %s (the tools' paths): make release-install sets them", goreleaserEnv, krewEnv, kubectlEnv)
	}
	for name, p := range map[string]string{goreleaserEnv: goreleaser, krewEnv: krew, kubectlEnv: kubectl} {
		if !filepath.IsAbs(p) {
			t.Fatalf("%s=%q: want an absolute path", name, p)
		}
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	dist := filepath.Join(tmp, "dist")

	// 1. The snapshot release.
	config := filepath.Join(tmp, "goreleaser.yaml")
	if err := os.WriteFile(config, linuxAmd64Config(t, readFile(t, goreleaserFile), dist), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "goreleaser", root, os.Environ(), goreleaser, "release", "--snapshot", "--clean", "--skip=publish", "--config", config)

	var meta struct {
		ProjectName string `json:"project_name"`
		Tag         string `json:"tag"`
		Version     string `json:"version"`
	}
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	if !strings.Contains(meta.Version, "SNAPSHOT") {
		t.Fatalf("metadata.json: version %q is not a snapshot version", meta.Version)
	}
	archive, manifest := releaseArtifacts(t, root, dist)
	wantName := meta.ProjectName + "_" + meta.Tag + "_linux_amd64.tar.gz"
	if filepath.Base(archive) != wantName {
		t.Errorf("archive %s, want %s (archives.name_template)", filepath.Base(archive), wantName)
	}

	// 2. The archive: binary, completion script, LICENSE and README, nothing else.
	files := readTarGz(t, archive)
	if got, want := slices.Sorted(maps.Keys(files)), []string{"LICENSE", "README.md", binary, filepath.Base(completion)}; !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("archive holds %q, want %q", got, want)
	}
	for _, name := range []string{binary, filepath.Base(completion)} {
		if f, ok := files[name]; ok && f.mode&0o111 == 0 {
			t.Errorf("archive: %s is not executable (%v)", name, f.mode)
		}
	}
	for name, src := range map[string]string{"LICENSE": licenseFile, filepath.Base(completion): completion, "README.md": "README.md"} {
		if f, ok := files[name]; ok && !bytes.Equal(f.content, readFile(t, src)) {
			t.Errorf("archive: %s differs from the repository's %s", name, src)
		}
	}

	// 3. goreleaser's krew manifest names this archive with its sha256, as
	// does checksums.txt.
	sum := fileSHA256(t, archive)
	var plugin krewPlugin
	if err := yaml.UnmarshalStrict(readAbs(t, manifest), &plugin); err != nil {
		t.Fatalf("%s: %v", manifest, err)
	}
	if plugin.Metadata.Name != pluginName || plugin.Spec.Version != "v"+meta.Version {
		t.Errorf("manifest: plugin %s %s, want %s v%s", plugin.Metadata.Name, plugin.Spec.Version, pluginName, meta.Version)
	}
	if len(plugin.Spec.Platforms) != 1 {
		t.Fatalf("manifest: %d platforms, want 1 (linux/amd64)", len(plugin.Spec.Platforms))
	}
	pl := plugin.Spec.Platforms[0]
	if l := pl.Selector.MatchLabels; l["os"] != "linux" || l["arch"] != "amd64" || len(l) != 2 {
		t.Errorf("manifest: platform %v, want os=linux arch=amd64", l)
	}
	if pl.Sha256 != sum {
		t.Errorf("manifest: sha256 %s, the archive's is %s", pl.Sha256, sum)
	}
	if want := homepage + "/releases/download/" + meta.Tag + "/" + wantName; pl.URI != want {
		t.Errorf("manifest: uri %s, want %s", pl.URI, want)
	}
	if pl.Bin != binary {
		t.Errorf("manifest: bin %q, want %q", pl.Bin, binary)
	}
	if got := checksumOf(t, filepath.Join(dist, "checksums.txt"), filepath.Base(archive)); got != sum {
		t.Errorf("checksums.txt: %s for the archive, its sha256 is %s", got, sum)
	}

	// 4. krew installs it into an empty KREW_ROOT. PATH holds krew's bin
	// directory and kubectl's only: no git, which --manifest does not need.
	krewRoot := filepath.Join(tmp, "krew")
	krewBin := filepath.Join(krewRoot, "bin")
	env := []string{
		"HOME=" + tmp,
		"KREW_ROOT=" + krewRoot,
		"KREW_NO_UPGRADE_CHECK=1", // krew would ask GitHub for its latest release
		"PATH=" + krewBin + string(os.PathListSeparator) + filepath.Dir(kubectl),
	}
	_, log := run(t, "krew install", tmp, env, krew, "install", "--manifest="+manifest, "--archive="+archive)
	if !strings.Contains(log, "Installed plugin: "+pluginName) {
		t.Errorf("krew install does not say %q", "Installed plugin: "+pluginName)
	}
	store := filepath.Join(krewRoot, "store", pluginName, plugin.Spec.Version)
	for _, name := range []string{binary, filepath.Base(completion), "LICENSE"} {
		if _, err := os.Stat(filepath.Join(store, name)); err != nil {
			t.Errorf("krew did not install %s: %v", name, err)
		}
	}

	// 5. kubectl finds the plugin in krew's bin directory and runs it.
	out, _ := run(t, "kubectl plugin list", tmp, env, kubectl, "plugin", "list", "--name-only")
	if !slices.Contains(strings.Fields(out), binary) {
		t.Errorf("kubectl plugin list does not list %s", binary)
	}
	// --client: without it, version also asks the cluster (there is none).
	out, _ = run(t, "kubectl eck-metrics version --client", tmp, env, kubectl, "eck-metrics", "version", "--client")
	if want := "kubectl-eck-metrics " + meta.Version + "\n"; out != want {
		t.Errorf("kubectl eck-metrics version --client printed %q, want %q", out, want)
	}

	// 6. As the caveats say: with the archive's completion script on PATH,
	// kubectl completes "kubectl eck-metrics ..." through it (the script
	// runs "sh", so its directory joins PATH too).
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	completeEnv := slices.Clone(env)
	completeEnv[len(completeEnv)-1] += string(os.PathListSeparator) + store + string(os.PathListSeparator) + filepath.Dir(sh)
	out, _ = run(t, "kubectl __complete", tmp, completeEnv, kubectl, "__complete", "eck-metrics", "")
	for _, sub := range []string{"enable", "status", "use-cert", "disable"} {
		if !slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool { return strings.HasPrefix(l, sub+"\t") || l == sub }) {
			t.Errorf("kubectl __complete eck-metrics does not offer %q", sub)
		}
	}
}

// linuxAmd64Config is .goreleaser.yaml building linux/amd64 only, into dist.
func linuxAmd64Config(t *testing.T, data []byte, dist string) []byte {
	t.Helper()
	var c map[string]any
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	builds, _ := c["builds"].([]any)
	if len(builds) != 1 {
		t.Fatalf("%s: %d builds, want 1", goreleaserFile, len(builds))
	}
	b := builds[0].(map[string]any)
	for _, key := range []string{"targets", "ignore", "goarm", "goamd64"} {
		if _, ok := b[key]; ok {
			t.Fatalf("%s: builds[0].%s is set: narrow it to linux/amd64 here too", goreleaserFile, key)
		}
	}
	if _, ok := c["dist"]; ok {
		t.Fatalf("%s: dist is set: the test replaces it", goreleaserFile)
	}
	b["goos"] = []string{"linux"}
	b["goarch"] = []string{"amd64"}
	c["dist"] = dist
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// releaseArtifacts finds the archive and the krew manifest in goreleaser's
// artifacts.json: one of each.
func releaseArtifacts(t *testing.T, root, dist string) (archive, manifest string) {
	t.Helper()
	var artifacts []struct {
		Name   string `json:"name"`
		Path   string `json:"path"`
		Goos   string `json:"goos"`
		Goarch string `json:"goarch"`
		Type   string `json:"type"`
	}
	readJSON(t, filepath.Join(dist, "artifacts.json"), &artifacts)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	for _, a := range artifacts {
		switch a.Type {
		case "Archive":
			if archive != "" {
				t.Fatalf("artifacts.json: more than one archive (%s, %s)", archive, a.Path)
			}
			if a.Goos != "linux" || a.Goarch != "amd64" {
				t.Fatalf("artifacts.json: archive %s is %s/%s, want linux/amd64 only", a.Name, a.Goos, a.Goarch)
			}
			archive = abs(a.Path)
		case "Krew Plugin Manifest":
			if manifest != "" {
				t.Fatalf("artifacts.json: more than one krew manifest")
			}
			manifest = abs(a.Path)
		}
	}
	if archive == "" || manifest == "" {
		t.Fatalf("artifacts.json: archive %q, krew manifest %q: want one of each", archive, manifest)
	}
	if want := filepath.Join(dist, "krew", pluginName+".yaml"); manifest != want {
		t.Errorf("krew manifest at %s, want %s", manifest, want)
	}
	return archive, manifest
}

type archivedFile struct {
	mode    os.FileMode
	content []byte
}

func readTarGz(t *testing.T, name string) map[string]archivedFile {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]archivedFile{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			t.Errorf("%s: %s is not a regular file", filepath.Base(name), h.Name)
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = archivedFile{mode: h.FileInfo().Mode(), content: b}
	}
}

func fileSHA256(t *testing.T, name string) string {
	t.Helper()
	sum := sha256.Sum256(readAbs(t, name))
	return hex.EncodeToString(sum[:])
}

// checksumOf returns the sum checksums.txt ("<sha256>  <name>" lines) gives name.
func checksumOf(t *testing.T, checksums, name string) string {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(readAbs(t, checksums)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[1] == name {
			return f[0]
		}
	}
	t.Fatalf("%s has no line for %s", checksums, name)
	return ""
}

func readAbs(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(readAbs(t, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// run runs a tool (stdin empty) and returns its stdout and stderr; it logs
// them and the time taken, and stops the test if the tool fails.
func run(t *testing.T, step, dir string, env []string, name string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(10 * time.Millisecond)
	if err != nil {
		t.Fatalf("%s: %v after %s\n$ %s %s\n%s%s", step, err, took, filepath.Base(name), strings.Join(args, " "), stdout.String(), stderr.String())
	}
	if step == "goreleaser" {
		// goreleaser's log is long: the time is enough unless it fails.
		t.Logf("%s: %s", step, took)
	} else {
		t.Logf("%s: %s\n$ %s %s\n%s%s", step, took, filepath.Base(name), strings.Join(args, " "), stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}
