package release

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

// crossCompileEnv turns TestEveryReleasedPlatformCompiles on.
const crossCompileEnv = "CROSS_COMPILE"

// TestEveryReleasedPlatformCompiles builds the plugin for every os/arch
// .goreleaser.yaml releases, with the build's env, flags and ldflags, as
// goreleaser would: the snapshot release of make release-install packs
// linux/amd64 only, and a file or import that does not build on darwin or
// windows would otherwise first fail on release day. With a warm build
// cache it takes seconds a platform (the link); the first run compiles the
// dependencies for each platform, minutes each on 2 cores, more than go
// test's default timeout: make cross-compile (part of make test) runs it
// with no timeout, and plain go test skips it.
func TestEveryReleasedPlatformCompiles(t *testing.T) {
	if os.Getenv(crossCompileEnv) == "" {
		t.Skipf("cross-compiles the plugin for every released platform (minutes with a cold build cache): make cross-compile sets %s=1", crossCompileEnv)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(readFile(t, goreleaserFile), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Builds) != 1 {
		t.Fatalf("%s: %d builds, want 1 (TestGoreleaserConfig says more)", goreleaserFile, len(c.Builds))
	}
	b := c.Builds[0]
	ldflags, err := renderLdflags(b.Ldflags)
	if err != nil {
		t.Fatalf("%s: builds[0].ldflags: %v", goreleaserFile, err)
	}
	platforms := buildTargets(b.Goos, b.Goarch, b.Targets, b.Ignore)
	if len(platforms) == 0 {
		t.Fatalf("%s: builds[0] names no platform", goreleaserFile)
	}
	for _, platform := range platforms {
		t.Run(platform, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(platform, "/")
			out := filepath.Join(t.TempDir(), b.Binary)
			if goos == "windows" {
				out += ".exe"
			}
			args := append([]string{"build", "-o", out}, b.Flags...)
			args = append(args, "-ldflags", ldflags, b.Main)
			cmd := exec.Command("go", args...)
			cmd.Dir = repoRoot
			cmd.Env = append(append(os.Environ(), b.Env...), "GOOS="+goos, "GOARCH="+goarch)
			if output, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s GOARCH=%s go %s: %v\n%s", goos, goarch, strings.Join(args, " "), err, output)
			}
			if err := checkExecutable(out, goos, goarch); err != nil {
				t.Error(err)
			}
		})
	}
}

// renderLdflags fills in goreleaser's template fields the ldflags use (only
// .Version is expected; any other field fails the render).
func renderLdflags(ldflags []string) (string, error) {
	tmpl, err := template.New("ldflags").Option("missingkey=error").Parse(strings.Join(ldflags, " "))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]string{"Version": "0.0.0-crosscompile"}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// checkExecutable says whether name is an executable of goos/goarch: the
// object format and machine its header declares.
func checkExecutable(name, goos, goarch string) error {
	machines := map[string]map[string]string{
		"linux":   {"amd64": elf.EM_X86_64.String(), "arm64": elf.EM_AARCH64.String()},
		"darwin":  {"amd64": macho.CpuAmd64.String(), "arm64": macho.CpuArm64.String()},
		"windows": {"amd64": fmt.Sprint(pe.IMAGE_FILE_MACHINE_AMD64), "arm64": fmt.Sprint(pe.IMAGE_FILE_MACHINE_ARM64)},
	}
	want, ok := machines[goos][goarch]
	if !ok {
		return fmt.Errorf("%s/%s: the test does not know this platform's executable format: add it to checkExecutable", goos, goarch)
	}
	var got string
	switch goos {
	case "linux":
		f, err := elf.Open(name)
		if err != nil {
			return fmt.Errorf("%s/%s: not an ELF executable: %v", goos, goarch, err)
		}
		defer f.Close()
		got = f.Machine.String()
	case "darwin":
		f, err := macho.Open(name)
		if err != nil {
			return fmt.Errorf("%s/%s: not a Mach-O executable: %v", goos, goarch, err)
		}
		defer f.Close()
		got = f.Cpu.String()
	case "windows":
		f, err := pe.Open(name)
		if err != nil {
			return fmt.Errorf("%s/%s: not a PE executable: %v", goos, goarch, err)
		}
		defer f.Close()
		got = fmt.Sprint(f.Machine)
	}
	if got != want {
		return fmt.Errorf("%s/%s: the executable is for machine %s, want %s", goos, goarch, got, want)
	}
	return nil
}

// checkExecutable must tell platforms apart: the running test binary is an
// executable of this platform and of no other.
func TestCheckExecutableTellsPlatformsApart(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkExecutable(self, runtime.GOOS, runtime.GOARCH); err != nil {
		t.Fatalf("the test binary as %s/%s: %v", runtime.GOOS, runtime.GOARCH, err)
	}
	for _, p := range [][2]string{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"}, {"windows", "amd64"}} {
		if p[0] == runtime.GOOS && p[1] == runtime.GOARCH {
			continue
		}
		if err := checkExecutable(self, p[0], p[1]); err == nil {
			t.Errorf("the %s/%s test binary passes as %s/%s", runtime.GOOS, runtime.GOARCH, p[0], p[1])
		}
	}
}
