// Package docs keeps the documentation true to the code: every check of
// status's catalogue has its section in docs/status.md, every link of the
// README and of docs/ leads to a file and heading that exist, and the
// README fits a screenful or two.
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/status"
)

const (
	repoRoot       = "../.."
	readme         = "README.md"
	statusPage     = "docs/status.md"
	readmeMaxLines = 200
)

// pages are the README and every page under docs/.
func pages(t *testing.T) []page {
	t.Helper()
	names := []string{readme}
	docs, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		names = append(names, "docs/"+filepath.Base(d))
	}
	var ps []page
	for _, n := range names {
		p, err := readPage(repoRoot, n)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestREADMEIsShort(t *testing.T) {
	p, err := readPage(repoRoot, readme)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.lines); n > readmeMaxLines {
		t.Errorf("%s has %d lines, more than %d: move the detail to a page under docs/ and link it", readme, n, readmeMaxLines)
	}
}

func TestLinksLeadSomewhere(t *testing.T) {
	for _, p := range pages(t) {
		for _, problem := range brokenLinks(repoRoot, p) {
			t.Error(problem)
		}
	}
}

func TestStatusPageCoversEveryCheck(t *testing.T) {
	p, err := readPage(repoRoot, statusPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range statusPageProblems(p, status.CheckIDs()) {
		t.Errorf("%s: %s", statusPage, problem)
	}
}

// checkIDLike is a heading that names a check: category.check.
var checkIDLike = regexp.MustCompile(`^[a-z][a-z-]*\.[a-z][a-z-]*$`)

// statusPageProblems lists what the status page lacks: a "## category"
// heading for each category of the catalogue (the part of a check ID
// before the dot), and under it a "### category.check" heading for each of
// its checks (code spans allowed, e.g. ### `rbac.binding`). A check heading
// that names no check of the catalogue is a problem too: the page would
// document a check that is gone.
func statusPageProblems(p page, ids []status.CheckID) []string {
	var problems []string
	known := map[string]bool{}
	for _, id := range ids {
		known[string(id)] = true
	}
	documented := map[string]string{} // check ID -> the category heading it is under
	categories := map[string]bool{}
	category := ""
	for _, h := range p.headings() {
		text := strings.Trim(h.text, "` ")
		switch h.level {
		case 2:
			category = text
			categories[text] = true
		case 3:
			if !checkIDLike.MatchString(text) {
				continue
			}
			if !known[text] {
				problems = append(problems, fmt.Sprintf("section %q names no check of the catalogue (pkg/status/catalog.go): remove or rename it", h.text))
				continue
			}
			documented[text] = category
		}
	}
	var wantCategories []string
	for _, id := range ids {
		cat, _, _ := strings.Cut(string(id), ".")
		if !slices.Contains(wantCategories, cat) {
			wantCategories = append(wantCategories, cat)
		}
		under, ok := documented[string(id)]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("no section for check %s: add a heading \"### `%s`\" under \"## `%s`\" saying what it means and what fixes it", id, id, cat))
		case under != cat:
			problems = append(problems, fmt.Sprintf("the section of check %s is under %q, not under its category %q", id, under, cat))
		}
	}
	for _, cat := range wantCategories {
		if !categories[cat] {
			problems = append(problems, fmt.Sprintf("no section for category %s: add a heading \"## `%s`\"", cat, cat))
		}
	}
	return problems
}

// The checks above must catch what they are for: a page is made broken in
// each way they look for, and each must be reported.

func TestSlugFollowsGitHub(t *testing.T) {
	for text, want := range map[string]string{
		"Install":                                           "install",
		"Try it without a cluster":                          "try-it-without-a-cluster",
		"`operator.found`":                                  "operatorfound",
		"`prometheus-selection.service-account`":            "prometheus-selectionservice-account",
		"GitOps (Argo CD, Flux): render instead":            "gitops-argo-cd-flux-render-instead",
		"Is my monitor picked up? (`prometheus-selection`)": "is-my-monitor-picked-up-prometheus-selection",
		"ECK 2.12 – 2.15":                                   "eck-212--215",
		"snake_case and [a link](x.md)":                     "snake_case-and-a-link",
	} {
		if got := slug(text); got != want {
			t.Errorf("slug(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestBrokenLinksAreReported(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/status.md", "# Status\n\n## `rbac`\n\n### `rbac.binding`\n\n## Exit codes\n")
	write("Makefile", "all:\n")
	write("README.md", strings.Join([]string{
		"# Title",
		"",
		"## Title",
		"[ok](docs/status.md) [ok](docs/status.md#rbacbinding) [ok](#title-1) [ok](Makefile)",
		"[ok](https://example.com/nowhere#x) `[code](nowhere.md)` [ok](#title)",
		"[missing file](docs/nowhere.md)",
		"[missing anchor](docs/status.md#rbac.binding)",
		"[missing anchor here](#exit-codes)",
		"[not markdown](Makefile#all)",
		"[outside](../x.md)",
		"```",
		"[in a code block](nowhere.md)",
		"```",
		"[ref]: docs/gone.md",
	}, "\n")+"\n")
	p, err := readPage(root, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	got := brokenLinks(root, p)
	want := []string{
		"README.md:6: docs/nowhere.md: no file docs/nowhere.md",
		"README.md:7: docs/status.md#rbac.binding: docs/status.md has no heading with anchor #rbac.binding",
		"README.md:8: #exit-codes: README.md has no heading with anchor #exit-codes",
		"README.md:9: Makefile#all: an anchor into a file that is not markdown",
		"README.md:10: ../x.md leaves the repository",
		"README.md:14: docs/gone.md: no file docs/gone.md",
	}
	if !slices.Equal(got, want) {
		t.Errorf("brokenLinks:\n got  %q\n want %q", got, want)
	}
}

func TestStatusPageProblemsAreReported(t *testing.T) {
	ids := []status.CheckID{status.RBACRole, status.RBACBinding, status.ServiceExists}
	p := page{name: statusPage, lines: strings.Split(strings.Join([]string{
		"# Status checks",
		"## `rbac`",
		"### `rbac.role`",
		"```",
		"### `rbac.binding`", // in a code block: not a section
		"```",
		"## Exit codes",
		"### `service.exists`", // under the wrong heading
		"## `operator`",
		"### `operator.retired`", // not in the catalogue
	}, "\n"), "\n")}
	got := statusPageProblems(p, ids)
	want := []string{
		"section \"`operator.retired`\" names no check of the catalogue (pkg/status/catalog.go): remove or rename it",
		"no section for check rbac.binding: add a heading \"### `rbac.binding`\" under \"## `rbac`\" saying what it means and what fixes it",
		"the section of check service.exists is under \"Exit codes\", not under its category \"service\"",
		"no section for category service: add a heading \"## `service`\"",
	}
	if !slices.Equal(got, want) {
		t.Errorf("statusPageProblems:\n got  %q\n want %q", got, want)
	}
}
