package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// apacheSHA256 is the sha256 of the Apache License 2.0 as published
// (https://www.apache.org/licenses/LICENSE-2.0.txt, the same bytes as the
// LICENSE of Kubernetes, krew and Debian's common-licenses/Apache-2.0), with
// the appendix's "Copyright [yyyy] [name of copyright owner]" unfilled.
const apacheSHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

const (
	copyrightPlaceholder = "   Copyright [yyyy] [name of copyright owner]"
	copyrightOwner       = "The kubectl-eck-metrics Authors"
)

// copyrightLine is the appendix's line, filled in with our owner.
var copyrightLine = regexp.MustCompile(`(?m)^   Copyright \d{4}(-\d{4})? ` + regexp.QuoteMeta(copyrightOwner) + `$`)

// The LICENSE is the full Apache-2.0 text, not a summary or an edited copy:
// krew-index and packagers recognise it by its text.
func TestLicense(t *testing.T) {
	for _, p := range checkLicense(readFile(t, licenseFile)) {
		t.Errorf("%s: %s", licenseFile, p)
	}
}

func checkLicense(text []byte) []string {
	lines := copyrightLine.FindAll(text, -1)
	if len(lines) != 1 {
		return []string{fmt.Sprintf("%d lines %q, want 1 (the appendix's copyright line filled in)", len(lines), "Copyright YYYY "+copyrightOwner)}
	}
	standard := copyrightLine.ReplaceAll(text, []byte(copyrightPlaceholder))
	sum := sha256.Sum256(standard)
	if got := hex.EncodeToString(sum[:]); got != apacheSHA256 {
		return []string{fmt.Sprintf("not the standard Apache-2.0 text apart from the copyright line (sha256 %s, want %s)", got, apacheSHA256)}
	}
	return nil
}

// Each mistake must be caught: the check does not pass whatever the input.
func TestLicenseCheckCatchesMistakes(t *testing.T) {
	text := readFile(t, licenseFile)
	for _, m := range []struct {
		name, old, new, want string
	}{
		{"another owner", copyrightOwner, "Someone Else", "want 1"},
		{"placeholder left", string(copyrightLine.Find(text)), copyrightPlaceholder, "want 1"},
		{"copyright line twice", "END OF TERMS AND CONDITIONS", "END OF TERMS AND CONDITIONS\n" + string(copyrightLine.Find(text)), "want 1"},
		{"a clause dropped", "   9. Accepting Warranty or Additional Liability.", "", "not the standard"},
		{"a word changed", "worldwide, non-exclusive, no-charge", "worldwide, exclusive, no-charge", "not the standard"},
		{"terms added", "END OF TERMS AND CONDITIONS", "Additional terms apply.\n\n   END OF TERMS AND CONDITIONS", "not the standard"},
	} {
		t.Run(m.name, func(t *testing.T) {
			if !bytes.Contains(text, []byte(m.old)) {
				t.Fatalf("%s no longer contains %q: update this mutation", licenseFile, m.old)
			}
			problems := checkLicense(bytes.ReplaceAll(text, []byte(m.old), []byte(m.new)))
			if len(problems) != 1 || !strings.Contains(problems[0], m.want) {
				t.Errorf("want one problem containing %q, got %q", m.want, problems)
			}
		})
	}
}
