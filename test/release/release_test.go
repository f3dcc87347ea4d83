// Package release checks the release configuration: .goreleaser.yaml and the
// krew manifest template plugins/eck-metrics.yaml, which krew-release-bot
// renders for krew-index. A mistake there only shows on release day (a
// binary kubectl does not find, a missing platform, a krew uri that 404s), so
// the checks run with the unit tests, without goreleaser or a cluster.
package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

const (
	repoRoot       = "../.."
	goreleaserFile = ".goreleaser.yaml"
	krewFile       = "plugins/eck-metrics.yaml"
	licenseFile    = "LICENSE"
	licenseName    = "Apache-2.0"

	binary         = "kubectl-eck_metrics"
	mainPath       = "./cmd/kubectl-eck-metrics"
	pluginName     = "eck-metrics"
	homepage       = "https://github.com/eck-metrics/kubectl-eck-metrics"
	completion     = "scripts/kubectl_complete-eck_metrics"
	versionPackage = "pkg/version"
	krewAPIVersion = "krew.googlecontainertools.github.com/v1alpha2"
)

// targets are the platforms released, and the only ones.
var targets = []string{
	"darwin/amd64", "darwin/arm64",
	"linux/amd64", "linux/arm64",
	"windows/amd64", "windows/arm64",
}

// goreleaserConfig is the part of the goreleaser v2 schema checked here.
type goreleaserConfig struct {
	Version     int    `json:"version"`
	ProjectName string `json:"project_name"`
	Builds      []struct {
		ID      string       `json:"id"`
		Main    string       `json:"main"`
		Binary  string       `json:"binary"`
		Env     []string     `json:"env"`
		Goos    []string     `json:"goos"`
		Goarch  []string     `json:"goarch"`
		Targets []string     `json:"targets"`
		Ignore  []ignoreRule `json:"ignore"`
		Flags   stringOrList `json:"flags"`
		Ldflags stringOrList `json:"ldflags"`
	} `json:"builds"`
	Archives []struct {
		ID              string       `json:"id"`
		IDs             []string     `json:"ids"`
		NameTemplate    string       `json:"name_template"`
		Formats         stringOrList `json:"formats"`
		FormatOverrides []struct {
			Goos    string       `json:"goos"`
			Formats stringOrList `json:"formats"`
		} `json:"format_overrides"`
		Files []archiveFile `json:"files"`
	} `json:"archives"`
	Checksum *struct {
		Disable      bool   `json:"disable"`
		NameTemplate string `json:"name_template"`
	} `json:"checksum"`
	Release struct {
		GitHub struct {
			Owner string `json:"owner"`
			Name  string `json:"name"`
		} `json:"github"`
	} `json:"release"`
	Krews []struct {
		Name             string   `json:"name"`
		IDs              []string `json:"ids"`
		SkipUpload       any      `json:"skip_upload"` // goreleaser takes true, "true", "auto" or a template
		Homepage         string   `json:"homepage"`
		ShortDescription string   `json:"short_description"`
		Description      string   `json:"description"`
		Caveats          string   `json:"caveats"`
	} `json:"krews"`
}

// ignoreRule is a builds.ignore entry: an os/arch pair left out.
type ignoreRule struct {
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
}

// stringOrList is a goreleaser field written either as a string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// archiveFile is an archives.files entry: a glob, or src/dst/strip_parent.
type archiveFile struct {
	Src         string `json:"src"`
	Dst         string `json:"dst"`
	StripParent bool   `json:"strip_parent"`
}

func (f *archiveFile) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &f.Src) == nil {
		return nil
	}
	type plain archiveFile
	return json.Unmarshal(b, (*plain)(f))
}

// krewPlugin is a rendered krew manifest; parsed strictly, so a misspelt
// field fails here rather than in krew-index's validation.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string         `json:"uri"`
			Sha256 string         `json:"sha256"`
			Bin    string         `json:"bin"`
			Files  []krewFileCopy `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

// krewFileCopy is a platforms[].files entry: what krew copies from the
// archive into the plugin's directory.
type krewFileCopy struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoreleaserConfig(t *testing.T) {
	for _, p := range checkGoreleaser(readFile(t, goreleaserFile)) {
		t.Errorf("%s: %s", goreleaserFile, p)
	}
}

func TestKrewTemplate(t *testing.T) {
	for _, p := range checkKrewTemplate(readFile(t, krewFile), readFile(t, goreleaserFile)) {
		t.Errorf("%s: %s", krewFile, p)
	}
}

// The version stamp names a package and a variable: both must exist, and -X
// only sets a string variable.
func TestVersionVariable(t *testing.T) {
	dir := filepath.Join(repoRoot, versionPackage)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := map[string][]byte{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			src[e.Name()] = readFile(t, filepath.Join(versionPackage, e.Name()))
		}
	}
	for _, p := range checkVersionPackage(readFile(t, "go.mod"), src) {
		t.Error(p)
	}
}

// The completion script ships as it is in the repository: it must be there
// and executable, or kubectl does not run it.
func TestCompletionScript(t *testing.T) {
	fi, err := os.Stat(filepath.Join(repoRoot, completion))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkCompletionScript(fi.Mode(), readFile(t, completion)) {
		t.Error(p)
	}
}

func checkCompletionScript(mode os.FileMode, content []byte) []string {
	var problems []string
	if mode.Perm()&0o111 == 0 {
		problems = append(problems, fmt.Sprintf("%s is not executable (%v)", completion, mode))
	}
	if !bytes.Contains(content, []byte(binary+" __complete")) {
		problems = append(problems, fmt.Sprintf("%s does not call %s __complete", completion, binary))
	}
	return problems
}

// checkVersionPackage checks that versionImportPath.Version, which the
// ldflags stamp, is a package-level string variable of this module.
func checkVersionPackage(gomod []byte, src map[string][]byte) []string {
	var problems []string
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(gomod)
	if m == nil {
		return []string{"go.mod: no module line"}
	}
	if want := string(m[1]) + "/" + versionPackage; want != versionImportPath {
		problems = append(problems, fmt.Sprintf("the ldflags stamp names %s, the package is %s", versionImportPath, want))
	}
	found := false
	fset := token.NewFileSet()
	for name, b := range src {
		f, err := parser.ParseFile(fset, name, b, 0)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != "Version" {
						continue
					}
					found = true
					isString := false
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						isString = true
					}
					if vs.Type == nil && i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							isString = true
						}
					}
					if !isString {
						problems = append(problems, versionPackage+": Version is not a string variable (-X would not set it)")
					}
				}
			}
		}
	}
	if !found {
		problems = append(problems, versionPackage+": no package-level var Version")
	}
	return problems
}

const versionImportPath = "github.com/eck-metrics/kubectl-eck-metrics/" + versionPackage

var (
	ldflagsStamp = regexp.MustCompile(`(^|\s)-X[ =]?` + regexp.QuoteMeta(versionImportPath+".Version=") + `\{\{\s*\.Version\s*\}\}(\s|$)`)
	ldflagsStrip = regexp.MustCompile(`(^|\s)-s(\s|$)`)
	ldflagsDWARF = regexp.MustCompile(`(^|\s)-w(\s|$)`)
)

// checkGoreleaser returns what is wrong with the goreleaser configuration.
func checkGoreleaser(data []byte) []string {
	var c goreleaserConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return []string{"parse: " + err.Error()}
	}
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if c.Version != 2 {
		fail("version is %d, want 2 (goreleaser v2 schema)", c.Version)
	}

	if len(c.Builds) != 1 {
		fail("%d builds, want 1", len(c.Builds))
		return problems
	}
	b := c.Builds[0]
	if b.Binary != binary {
		fail("builds[0].binary is %q, want %q (kubectl runs kubectl-eck_metrics for \"kubectl eck-metrics\")", b.Binary, binary)
	}
	if b.Main != mainPath {
		fail("builds[0].main is %q, want %q", b.Main, mainPath)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		fail("builds[0].env %q lacks CGO_ENABLED=0", b.Env)
	}
	if got := buildTargets(b.Goos, b.Goarch, b.Targets, b.Ignore); !slices.Equal(got, targets) {
		fail("builds[0] targets are %v, want exactly %v", got, targets)
	}
	ld := strings.Join(b.Ldflags, " ")
	if !ldflagsStamp.MatchString(ld) {
		fail("builds[0].ldflags %q lack -X %s.Version={{.Version}}", ld, versionImportPath)
	}
	if !ldflagsStrip.MatchString(ld) || !ldflagsDWARF.MatchString(ld) {
		fail("builds[0].ldflags %q lack -s -w", ld)
	}

	if len(c.Archives) != 1 {
		fail("%d archives, want 1", len(c.Archives))
	} else {
		a := c.Archives[0]
		if len(a.IDs) > 0 && !slices.Contains(a.IDs, b.ID) {
			fail("archives[0].ids %q leave out build %q", a.IDs, b.ID)
		}
		if !slices.Equal(a.Formats, []string{"tar.gz"}) {
			fail("archives[0].formats is %q, want [tar.gz]", a.Formats)
		}
		windowsZip := false
		for _, o := range a.FormatOverrides {
			if o.Goos == "windows" && slices.Equal(o.Formats, []string{"zip"}) {
				windowsZip = true
			} else {
				fail("archives[0].format_overrides: unexpected %s -> %q", o.Goos, o.Formats)
			}
		}
		if !windowsZip {
			fail("archives[0].format_overrides: windows archives are not zip")
		}
		var script, readme, license bool
		for _, f := range a.Files {
			switch {
			case f.Src == completion:
				script = true
				// kubectl looks for kubectl_complete-eck_metrics on PATH, that
				// is next to the binary, not in scripts/.
				if !f.StripParent || (f.Dst != "" && f.Dst != ".") {
					fail("archives[0].files: %s is not put next to the binary (want dst: . and strip_parent: true)", completion)
				}
			case f.Src == "README.md":
				readme = true
			case f.Src == licenseFile:
				license = true
			}
		}
		if !script {
			fail("archives[0].files lack %s", completion)
		}
		if !readme {
			fail("archives[0].files lack README.md")
		}
		if !license {
			fail("archives[0].files lack %s (one archive config serves every target)", licenseFile)
		}
	}

	if c.Checksum == nil || c.Checksum.Disable {
		fail("no checksums file (checksum missing or disabled)")
	}

	if len(c.Krews) != 1 {
		fail("%d krews, want 1", len(c.Krews))
	} else {
		k := c.Krews[0]
		if k.Name != pluginName {
			fail("krews[0].name is %q, want %q", k.Name, pluginName)
		}
		if k.SkipUpload != true && k.SkipUpload != "true" {
			fail("krews[0].skip_upload is %v, want true (krew-index gets plugins/eck-metrics.yaml through krew-release-bot)", k.SkipUpload)
		}
		if len(k.IDs) > 0 && !slices.Contains(k.IDs, b.ID) {
			fail("krews[0].ids %q leave out build %q", k.IDs, b.ID)
		}
		if k.Homepage != homepage {
			fail("krews[0].homepage is %q, want %q", k.Homepage, homepage)
		}
		if strings.TrimSpace(k.ShortDescription) == "" || strings.TrimSpace(k.Description) == "" {
			fail("krews[0] lacks short_description or description")
		}
		for _, cmd := range []string{"kubectl eck-metrics enable", "kubectl eck-metrics status"} {
			if !strings.Contains(k.Caveats, cmd) {
				fail("krews[0].caveats do not say %q", cmd)
			}
		}
	}
	return problems
}

// buildTargets lists the os/arch pairs a goreleaser build produces, sorted.
func buildTargets(goos, goarch, explicit []string, ignore []ignoreRule) []string {
	var out []string
	if len(explicit) > 0 {
		// targets: os_arch[_variant] replaces goos/goarch.
		for _, t := range explicit {
			parts := strings.SplitN(t, "_", 3)
			if len(parts) < 2 {
				out = append(out, t)
				continue
			}
			out = append(out, parts[0]+"/"+parts[1])
		}
	} else {
		for _, o := range goos {
			for _, a := range goarch {
				ignored := slices.ContainsFunc(ignore, func(i ignoreRule) bool {
					return (i.Goos == "" || i.Goos == o) && (i.Goarch == "" || i.Goarch == a)
				})
				if !ignored {
					out = append(out, o+"/"+a)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// testTag is the tag the krew template is rendered with here.
const testTag = "v1.2.3"

// renderedKrewManifest is the krew template rendered as krew-release-bot
// renders it, with what its addURIAndSha calls were given and returned.
type renderedKrewManifest struct {
	manifest     []byte
	uriTemplates []string          // the uri templates addURIAndSha was called with
	sha256s      map[string]string // the sha256 written for each uri
}

// renderKrewTemplate renders the krew template with .TagName testTag.
// addURIAndSha stands in for krew-release-bot's: same signature, same
// output, but the sha256 is made up from the uri instead of downloaded.
func renderKrewTemplate(tmpl []byte) (renderedKrewManifest, error) {
	r := renderedKrewManifest{sha256s: map[string]string{}}
	funcs := template.FuncMap{
		"addURIAndSha": func(uriTemplate, tag string) (string, error) {
			r.uriTemplates = append(r.uriTemplates, uriTemplate)
			t, err := template.New("uri").Option("missingkey=error").Parse(uriTemplate)
			if err != nil {
				return "", err
			}
			var uri strings.Builder
			if err := t.Execute(&uri, map[string]string{"TagName": tag, "Version": strings.TrimPrefix(tag, "v")}); err != nil {
				return "", err
			}
			sum := sha256.Sum256([]byte(uri.String()))
			r.sha256s[uri.String()] = hex.EncodeToString(sum[:])
			return fmt.Sprintf("uri: %s\n    sha256: %s", uri.String(), r.sha256s[uri.String()]), nil
		},
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return strings.TrimSpace(pad + strings.ReplaceAll(s, "\n", "\n"+pad))
		},
	}
	t, err := template.New(krewFile).Funcs(funcs).Option("missingkey=error").Parse(string(tmpl))
	if err != nil {
		return r, fmt.Errorf("template: %w", err)
	}
	var rendered bytes.Buffer
	if err := t.Execute(&rendered, struct{ TagName string }{testTag}); err != nil {
		return r, fmt.Errorf("render: %w", err)
	}
	r.manifest = rendered.Bytes()
	return r, nil
}

// checkKrewTemplate renders the krew template as krew-release-bot does
// (text/template, .TagName, addURIAndSha) and returns what is wrong with it,
// including uris that do not name the archives .goreleaser.yaml makes.
func checkKrewTemplate(tmpl, goreleaserData []byte) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var gr goreleaserConfig
	if err := yaml.Unmarshal(goreleaserData, &gr); err != nil {
		return []string{"parse " + goreleaserFile + ": " + err.Error()}
	}
	// krew-index reviewers look for the licence; the manifest has no field
	// for it, so the template names it in its comments.
	if !bytes.Contains(tmpl, []byte("License: "+licenseName)) {
		fail("does not name the license (a comment \"License: %s\")", licenseName)
	}

	r, err := renderKrewTemplate(tmpl)
	if err != nil {
		return []string{err.Error()}
	}
	rendered, calls, shas := r.manifest, r.uriTemplates, r.sha256s

	// Each uri must be a template of the tag, not a fixed release.
	for _, c := range calls {
		if !strings.Contains(c, "{{ .TagName }}") && !strings.Contains(c, "{{.TagName}}") {
			fail("addURIAndSha %q does not use .TagName", c)
		}
	}

	var p krewPlugin
	if err := yaml.UnmarshalStrict(rendered, &p); err != nil {
		return append(problems, "rendered manifest: "+err.Error())
	}
	if p.APIVersion != krewAPIVersion || p.Kind != "Plugin" {
		fail("apiVersion/kind is %s/%s, want %s/Plugin", p.APIVersion, p.Kind, krewAPIVersion)
	}
	if p.Metadata.Name != pluginName {
		fail("metadata.name is %q, want %q", p.Metadata.Name, pluginName)
	}
	if p.Spec.Version != testTag {
		fail("spec.version renders to %q, want the tag %q (use {{ .TagName }})", p.Spec.Version, testTag)
	}
	if p.Spec.Homepage != homepage {
		fail("spec.homepage is %q, want %q", p.Spec.Homepage, homepage)
	}
	if len(gr.Krews) == 1 {
		k := gr.Krews[0]
		if p.Spec.ShortDescription != k.ShortDescription {
			fail("spec.shortDescription %q differs from .goreleaser.yaml's %q", p.Spec.ShortDescription, k.ShortDescription)
		}
		if p.Spec.Description != k.Description {
			fail("spec.description differs from .goreleaser.yaml's krews description")
		}
		if p.Spec.Caveats != k.Caveats {
			fail("spec.caveats differ from .goreleaser.yaml's krews caveats")
		}
	}

	seen := map[string]bool{}
	for i, pl := range p.Spec.Platforms {
		labels := pl.Selector.MatchLabels
		goos, goarch := labels["os"], labels["arch"]
		key := goos + "/" + goarch
		if len(labels) != 2 || goos == "" || goarch == "" {
			fail("platforms[%d]: matchLabels %v, want exactly os and arch", i, labels)
			continue
		}
		if seen[key] {
			fail("platforms[%d]: %s listed twice", i, key)
		}
		seen[key] = true
		if !slices.Contains(targets, key) {
			fail("platforms[%d]: %s is not released", i, key)
			continue
		}
		wantBin := binary
		if goos == "windows" {
			wantBin += ".exe"
		}
		if pl.Bin != wantBin {
			fail("platforms[%d] (%s): bin is %q, want %q", i, key, pl.Bin, wantBin)
		}
		// Without files: krew installs the whole archive; a files: list
		// must name the licence, or krew leaves it out.
		if len(pl.Files) > 0 && !slices.ContainsFunc(pl.Files, func(f krewFileCopy) bool { return path.Base(f.From) == licenseFile }) {
			fail("platforms[%d] (%s): files leave out %s", i, key, licenseFile)
		}
		wantURI, err := releaseURI(gr, goos, goarch)
		if err != nil {
			fail("platforms[%d] (%s): %v", i, key, err)
		} else if pl.URI != wantURI {
			fail("platforms[%d] (%s): uri is %q, want %q (the archive .goreleaser.yaml makes)", i, key, pl.URI, wantURI)
		}
		if sha, ok := shas[pl.URI]; !ok || pl.Sha256 != sha {
			fail("platforms[%d] (%s): uri and sha256 do not come from addURIAndSha", i, key)
		}
	}
	for _, key := range targets {
		if !seen[key] {
			fail("no platform for %s", key)
		}
	}
	return problems
}

// releaseURI is the GitHub release download URL of the os/arch archive that
// .goreleaser.yaml makes for testTag.
func releaseURI(gr goreleaserConfig, goos, goarch string) (string, error) {
	if len(gr.Archives) != 1 {
		return "", fmt.Errorf("%s has %d archives, want 1", goreleaserFile, len(gr.Archives))
	}
	a := gr.Archives[0]
	owner, repo := gr.Release.GitHub.Owner, gr.Release.GitHub.Name
	if owner == "" || repo == "" {
		return "", fmt.Errorf("%s: release.github owner/name not set", goreleaserFile)
	}
	t, err := template.New("name_template").Option("missingkey=error").Parse(a.NameTemplate)
	if err != nil {
		return "", fmt.Errorf("archives[0].name_template: %v", err)
	}
	var name strings.Builder
	err = t.Execute(&name, map[string]string{
		"ProjectName": gr.ProjectName,
		"Tag":         testTag,
		"Version":     strings.TrimPrefix(testTag, "v"),
		"Os":          goos,
		"Arch":        goarch,
	})
	if err != nil {
		return "", fmt.Errorf("archives[0].name_template: %v", err)
	}
	format := "tar.gz"
	if len(a.Formats) > 0 {
		format = a.Formats[0]
	}
	for _, o := range a.FormatOverrides {
		if o.Goos == goos && len(o.Formats) > 0 {
			format = o.Formats[0]
		}
	}
	return fmt.Sprintf("https://github.com/%s/%s/releases/download/%s/%s.%s", owner, repo, testTag, name.String(), format), nil
}

// TestChecksCatchMistakes makes each mistake the checks above exist for, in a
// copy of the real files, and expects the problem reported: no check passes
// whatever the input. A mutation that no longer applies fails too, so the
// list follows the files.
func TestChecksCatchMistakes(t *testing.T) {
	const (
		gr   = goreleaserFile
		krew = krewFile
	)
	linuxAmd64URI := `{{addURIAndSha "https://github.com/eck-metrics/kubectl-eck-metrics/releases/download/{{ .TagName }}/kubectl-eck-metrics_{{ .TagName }}_linux_amd64.tar.gz" .TagName }}`
	mutations := []struct {
		name     string
		file     string
		old, new string
		want     string
	}{
		// .goreleaser.yaml
		{"not YAML", gr, "version: 2", "version: [", "parse"},
		{"schema v1", gr, "version: 2", "version: 1", "version is 1"},
		{"two builds", gr, "builds:\n  - id: kubectl-eck_metrics", "builds:\n  - id: other\n  - id: kubectl-eck_metrics", "2 builds"},
		{"binary name", gr, "binary: kubectl-eck_metrics", "binary: kubectl-eck-metrics", "builds[0].binary"},
		{"main path", gr, "main: ./cmd/kubectl-eck-metrics", "main: ./cmd/other", "builds[0].main"},
		{"cgo", gr, "- CGO_ENABLED=0", "- CGO_ENABLED=1", "lacks CGO_ENABLED=0"},
		{"extra arch", gr, "      - arm64\n    flags:", "      - arm64\n      - \"386\"\n    flags:", "targets are"},
		{"missing os", gr, "      - windows\n    goarch:", "    goarch:", "targets are"},
		{"ignored target", gr, "    flags:", "    ignore:\n      - goos: windows\n        goarch: arm64\n    flags:", "targets are"},
		{"explicit targets", gr, "    flags:", "    targets:\n      - linux_amd64_v1\n    flags:", "targets are"},
		{"no version stamp", gr, "pkg/version.Version={{.Version}}", "pkg/version.Version=dev", "lack -X"},
		{"stamp of another package", gr, "kubectl-eck-metrics/pkg/version.Version", "kubectl-eck-metrics/pkg/cmd.Version", "lack -X"},
		{"no -s -w", gr, "- -s -w -X", "- -X", "lack -s -w"},
		{"no archives", gr, "archives:", "archivez:", "0 archives"},
		{"archive of another build", gr, "    ids:\n      - kubectl-eck_metrics\n    # plugins", "    ids:\n      - other\n    # plugins", "archives[0].ids"},
		{"tar.xz", gr, "    formats:\n      - tar.gz", "    formats:\n      - tar.xz", "archives[0].formats"},
		{"windows tar.gz", gr, "          - zip", "          - tar.gz", "windows archives are not zip"},
		{"darwin zip", gr, "      - goos: windows", "      - goos: darwin", "unexpected darwin"},
		{"no completion script", gr, "      - src: scripts/kubectl_complete-eck_metrics\n        dst: .\n        strip_parent: true\n", "", "lack scripts/kubectl_complete-eck_metrics"},
		{"completion script in scripts/", gr, "        strip_parent: true", "        strip_parent: false", "not put next to the binary"},
		{"completion script as a glob", gr, "      - src: scripts/kubectl_complete-eck_metrics\n        dst: .\n        strip_parent: true\n", "      - scripts/kubectl_complete-eck_metrics\n", "not put next to the binary"},
		{"no README", gr, "      - README.md\n", "", "lack README.md"},
		{"no LICENSE", gr, "      - LICENSE\n", "", "lack LICENSE"},
		{"LICENSE misspelt", gr, "      - LICENSE\n", "      - LICENCE\n", "lack LICENSE"},
		{"checksums disabled", gr, "checksum:\n", "checksum:\n  disable: true\n", "no checksums file"},
		{"no checksum", gr, "checksum:\n  name_template: checksums.txt\n  algorithm: sha256\n", "", "no checksums file"},
		{"no krews", gr, "krews:", "krewz:", "0 krews"},
		{"krew name", gr, "  - name: eck-metrics", "  - name: eck_metrics", "krews[0].name"},
		{"krew upload", gr, "skip_upload: true", "skip_upload: auto", "krews[0].skip_upload"},
		{"krew upload unset", gr, "    skip_upload: true\n", "", "krews[0].skip_upload"},
		{"krew of another build", gr, "    ids:\n      - kubectl-eck_metrics\n    # plugins/eck-metrics.yaml goes", "    ids:\n      - other\n    # plugins/eck-metrics.yaml goes", "krews[0].ids"},
		{"krew homepage", gr, "    homepage: " + homepage, "    homepage: https://example.com", "krews[0].homepage"},
		{"no short description", gr, "    short_description: Secure the ECK operator's Prometheus metrics endpoint", "    short_description: \"\"", "lacks short_description"},
		{"caveats without enable", gr, "kubectl eck-metrics enable", "kubectl eck-metrics on", `do not say "kubectl eck-metrics enable"`},
		{"caveats without status", gr, "kubectl eck-metrics status", "kubectl eck-metrics show", `do not say "kubectl eck-metrics status"`},
		// .goreleaser.yaml against the krew template
		{"archive names without the tag", gr, "_{{ .Tag }}_", "_{{ .Version }}_", "uri is"},
		{"another project name", gr, "project_name: kubectl-eck-metrics", "project_name: eck-metrics", "uri is"},
		{"archive name unknown field", gr, "{{ .Arch }}\"", "{{ .Arch }}{{ .Arm }}\"", "archives[0].name_template"},
		{"no release repository", gr, "    owner: eck-metrics\n", "", "release.github owner/name not set"},
		// plugins/eck-metrics.yaml
		{"template syntax", krew, "version: {{ .TagName }}", "version: {{ .TagName", "template:"},
		{"unknown value", krew, "version: {{ .TagName }}", "version: {{ .Tag }}", "render:"},
		{"unknown manifest field", krew, "    bin: kubectl-eck_metrics\n", "    bin: kubectl-eck_metrics\n    binary: x\n", "rendered manifest"},
		{"kind", krew, "kind: Plugin", "kind: Plugins", "apiVersion/kind"},
		{"apiVersion", krew, "/v1alpha2", "/v1alpha1", "apiVersion/kind"},
		{"plugin name", krew, "metadata:\n  name: eck-metrics", "metadata:\n  name: eck_metrics", "metadata.name"},
		{"fixed version", krew, "version: {{ .TagName }}", "version: v0.0.1", "spec.version"},
		{"template homepage", krew, "  homepage: " + homepage, "  homepage: https://example.com", "spec.homepage"},
		{"short description drift", krew, "  shortDescription: Secure", "  shortDescription: Protect", "spec.shortDescription"},
		{"description drift", krew, "operator with RBAC and TLS", "operator with TLS", "spec.description"},
		{"caveats drift", krew, "    Then check what is configured:", "    Then look:", "spec.caveats"},
		{"windows bin without .exe", krew, "bin: kubectl-eck_metrics.exe", "bin: kubectl-eck_metrics", "bin is"},
		{"bin name", krew, "bin: kubectl-eck_metrics\n", "bin: kubectl-eck-metrics\n", "bin is"},
		{"files without LICENSE", krew, "    bin: kubectl-eck_metrics\n", "    bin: kubectl-eck_metrics\n    files:\n    - from: kubectl-eck_metrics\n      to: .\n", "files leave out LICENSE"},
		{"template does not name the license", krew, "License: Apache-2.0", "License: see the repository", "does not name"},
		{"platform twice", krew, "        os: darwin\n        arch: arm64", "        os: darwin\n        arch: amd64", "darwin/amd64 listed twice"},
		{"platform missing", krew, "        os: darwin\n        arch: arm64", "        os: darwin\n        arch: amd64", "no platform for darwin/arm64"},
		{"platform not released", krew, "        os: windows\n        arch: arm64", "        os: windows\n        arch: \"386\"", "windows/386 is not released"},
		{"extra selector label", krew, "        arch: amd64\n", "        arch: amd64\n        distro: x\n", "want exactly os and arch"},
		{"wrong archive", krew, "_linux_amd64.tar.gz", "_linux_amd64.zip", "uri is"},
		{"fixed tag in uri", krew, "download/{{ .TagName }}/kubectl-eck-metrics_{{ .TagName }}_linux_amd64", "download/v1.2.3/kubectl-eck-metrics_v1.2.3_linux_amd64", "does not use .TagName"},
		{"uri and sha256 by hand", krew, linuxAmd64URI,
			"uri: https://github.com/eck-metrics/kubectl-eck-metrics/releases/download/{{ .TagName }}/kubectl-eck-metrics_{{ .TagName }}_linux_amd64.tar.gz\n    sha256: " + strings.Repeat("0", 64),
			"do not come from addURIAndSha"},
	}
	files := map[string][]byte{gr: readFile(t, gr), krew: readFile(t, krew)}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			in := map[string][]byte{gr: files[gr], krew: files[krew]}
			if !bytes.Contains(in[m.file], []byte(m.old)) {
				t.Fatalf("%s no longer contains %q: update this mutation", m.file, m.old)
			}
			in[m.file] = bytes.ReplaceAll(in[m.file], []byte(m.old), []byte(m.new))
			problems := append(checkGoreleaser(in[gr]), checkKrewTemplate(in[krew], in[gr])...)
			for _, p := range problems {
				if strings.Contains(p, m.want) {
					t.Log(p)
					return
				}
			}
			t.Errorf("no problem reported containing %q; got %q", m.want, problems)
		})
	}

	t.Run("version package", func(t *testing.T) {
		gomod := []byte("module github.com/eck-metrics/kubectl-eck-metrics\n")
		ok := map[string][]byte{"version.go": []byte("package version\n\nvar Version = \"dev\"\n")}
		if p := checkVersionPackage(gomod, ok); len(p) != 0 {
			t.Fatalf("a correct package reported %q", p)
		}
		for _, c := range []struct {
			name  string
			gomod string
			src   string
			want  string
		}{
			{"no module line", "go 1.26\n", "package version\n\nvar Version = \"dev\"\n", "no module line"},
			{"module renamed", "module example.com/other\n", "package version\n\nvar Version = \"dev\"\n", "the ldflags stamp names"},
			{"not a string", string(gomod), "package version\n\nvar Version = 1\n", "not a string variable"},
			{"typed int", string(gomod), "package version\n\nvar Version int\n", "not a string variable"},
			{"constant", string(gomod), "package version\n\nconst Version = \"dev\"\n", "no package-level var Version"},
			{"renamed", string(gomod), "package version\n\nvar GitVersion = \"dev\"\n", "no package-level var Version"},
			{"not Go", string(gomod), "package version\n\nvar Version = \n", "expected"},
		} {
			p := checkVersionPackage([]byte(c.gomod), map[string][]byte{"version.go": []byte(c.src)})
			if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("%s: no problem containing %q; got %q", c.name, c.want, p)
			}
		}
	})

	t.Run("completion script", func(t *testing.T) {
		script := []byte("exec kubectl-eck_metrics __complete \"$@\"\n")
		if p := checkCompletionScript(0o755, script); len(p) != 0 {
			t.Fatalf("a correct script reported %q", p)
		}
		if p := checkCompletionScript(0o644, script); len(p) != 1 || !strings.Contains(p[0], "not executable") {
			t.Errorf("mode 0644: got %q", p)
		}
		if p := checkCompletionScript(0o755, []byte("exec kubectl-eck-metrics __complete \"$@\"\n")); len(p) != 1 || !strings.Contains(p[0], "does not call") {
			t.Errorf("wrong binary: got %q", p)
		}
	})
}
