package certs_test

// Unit tests of the certificate checks: no cluster. Every certificate and key
// is generated here with crypto/x509, relative to the fixed time now, so the
// tests never depend on the wall clock. Every call of Check goes through
// check, which fails the test when an error, a warning or UnknownCAWarning
// holds any part of any private key the tests generated.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
)

// now is the time every check is judged at.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	serviceDNS = "elastic-operator-metrics.elastic-system.svc"
	testOrg    = "eck-metrics test"
	day        = 24 * time.Hour
)

// systemRoot is a CA the tests install as the only system root (SSL_CERT_FILE),
// so that "the system roots" is testable and no test depends on the machine's
// trust store.
var systemRoot *issued

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "certs-test-roots")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	systemRoot, err = issue(spec{cn: "Test System Root", isCA: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	file := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(file, systemRoot.certPEM, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Read by crypto/x509 on Linux and the BSDs when it first loads the system
	// roots; the empty directory hides /etc/ssl/certs.
	os.Setenv("SSL_CERT_FILE", file)
	os.Setenv("SSL_CERT_DIR", dir)
	return m.Run()
}

// Key types and PEM forms.
type keyKind int

const (
	ecPKCS8  keyKind = iota // ECDSA P-256, "PRIVATE KEY"
	ecSEC1                  // ECDSA P-256, "EC PRIVATE KEY"
	rsaPKCS1                // RSA 2048, "RSA PRIVATE KEY"
	rsaPKCS8                // RSA 2048, "PRIVATE KEY"
)

func (k keyKind) String() string {
	return [...]string{"ECDSA-PKCS8", "ECDSA-EC", "RSA-PKCS1", "RSA-PKCS8"}[k]
}

var allKinds = []keyKind{ecPKCS8, ecSEC1, rsaPKCS1, rsaPKCS8}

type spec struct {
	cn        string
	dns       []string
	notBefore time.Time // zero: now - 1h
	notAfter  time.Time // zero: now + 365 days
	isCA      bool
	kind      keyKind
	parent    *issued // nil: self-signed
	extUsage  []x509.ExtKeyUsage
}

type issued struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
	keyPEM  []byte
}

func subject(cn string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: []string{testOrg}}
}

func subjectString(cn string) string { return "CN=" + cn + ",O=" + testOrg }

func newKey(kind keyKind) (crypto.Signer, []byte, error) {
	var (
		key   crypto.Signer
		der   []byte
		block string
		err   error
	)
	switch kind {
	case ecPKCS8, ecSEC1:
		k, kerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if kerr != nil {
			return nil, nil, kerr
		}
		key = k
		if kind == ecSEC1 {
			block = "EC PRIVATE KEY"
			der, err = x509.MarshalECPrivateKey(k)
		} else {
			block = "PRIVATE KEY"
			der, err = x509.MarshalPKCS8PrivateKey(k)
		}
	case rsaPKCS1, rsaPKCS8:
		k, kerr := rsa.GenerateKey(rand.Reader, 2048)
		if kerr != nil {
			return nil, nil, kerr
		}
		key = k
		if kind == rsaPKCS1 {
			block = "RSA PRIVATE KEY"
			der = x509.MarshalPKCS1PrivateKey(k)
		} else {
			block = "PRIVATE KEY"
			der, err = x509.MarshalPKCS8PrivateKey(k)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: block, Bytes: der})
	registerSecret(keyPEM)
	return key, keyPEM, nil
}

func issue(s spec) (*issued, error) {
	key, keyPEM, err := newKey(s.kind)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject(s.cn),
		DNSNames:     s.dns,
		NotBefore:    s.notBefore,
		NotAfter:     s.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  s.extUsage,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(365 * day)
	}
	if s.kind == rsaPKCS1 || s.kind == rsaPKCS8 {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if s.isCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else if tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	parent, signer := tmpl, key
	if s.parent != nil {
		parent, signer = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &issued{
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:     key,
		keyPEM:  keyPEM,
	}, nil
}

func mustIssue(t *testing.T, s spec) *issued {
	t.Helper()
	c, err := issue(s)
	if err != nil {
		t.Fatalf("issue %s: %v", s.cn, err)
	}
	return c
}

func testCA(t *testing.T, cn string) *issued {
	t.Helper()
	return mustIssue(t, spec{cn: cn, isCA: true, notAfter: now.Add(10 * 365 * day)})
}

func leaf(t *testing.T, ca *issued, s spec) *issued {
	t.Helper()
	if s.cn == "" {
		s.cn = "elastic-operator-metrics"
	}
	if s.dns == nil {
		s.dns = []string{serviceDNS}
	}
	s.parent = ca
	return mustIssue(t, s)
}

func cat(pems ...[]byte) []byte { return slices.Concat(pems...) }

// tlsAccepts is what crypto/tls, and so `kubectl create secret tls` and the
// operator, make of a certificate and key.
func tlsAccepts(certPEM, keyPEM []byte) (tls.Certificate, error) {
	return tls.X509KeyPair(certPEM, keyPEM)
}

// --- key material leak detection ---

const (
	b64Window = 16 // base64 characters: 96 bits of a key
	hexWindow = 24 // hex characters: 96 bits of a key
)

var (
	secretsMu sync.Mutex
	// secretWindows holds every b64Window-long piece of the base64 body, and
	// every hexWindow-long piece of the hex DER and of the hex PEM text (both
	// cases), of every private key PEM the tests generated.
	secretWindows = map[string]bool{}
)

func registerSecret(keyPEM []byte) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	// The PEM text itself, hex encoded (a %x of the file).
	h := hex.EncodeToString(keyPEM)
	for _, text := range []string{h, strings.ToUpper(h)} {
		for i := 0; i+hexWindow <= len(text); i++ {
			secretWindows[text[i:i+hexWindow]] = true
		}
	}
	for rest := keyPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		body := base64.StdEncoding.EncodeToString(block.Bytes)
		h := hex.EncodeToString(block.Bytes)
		for _, s := range []struct {
			text string
			n    int
		}{{body, b64Window}, {h, hexWindow}, {strings.ToUpper(h), hexWindow}} {
			for i := 0; i+s.n <= len(s.text); i++ {
				secretWindows[s.text[i:i+s.n]] = true
			}
		}
	}
}

// leak returns a piece of a generated private key that text holds, or "".
func leak(text string) string {
	if strings.Contains(text, "-----BEGIN") || strings.Contains(text, "-----END") {
		return "a PEM armour line"
	}
	squeezed := strings.Join(strings.Fields(text), "")
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, s := range []string{text, squeezed} {
		for _, n := range []int{b64Window, hexWindow} {
			for i := 0; i+n <= len(s); i++ {
				if secretWindows[s[i:i+n]] {
					return s[i : i+n]
				}
			}
		}
	}
	return ""
}

func assertNoKeyMaterial(t *testing.T, what, text string) {
	t.Helper()
	if l := leak(text); l != "" {
		t.Errorf("%s holds private key material %q: %s", what, l, text)
	}
}

// check calls certs.Check and asserts that nothing it returns, nor the
// UnknownCAWarning of its report, holds key material.
func check(t *testing.T, certPEM, keyPEM []byte, o certs.Options) (*certs.Report, error) {
	t.Helper()
	r, err := certs.Check(certPEM, keyPEM, o)
	if err != nil {
		assertNoKeyMaterial(t, "error", err.Error())
		if r != nil {
			t.Errorf("Check returned both a report and the error %v", err)
		}
		return r, err
	}
	if r == nil {
		t.Fatal("Check returned neither a report nor an error")
	}
	for _, w := range r.Warnings {
		assertNoKeyMaterial(t, "warning", w)
	}
	assertNoKeyMaterial(t, "UnknownCAWarning", certs.UnknownCAWarning(r))
	assertNoKeyMaterial(t, "Subject", r.Subject)
	assertNoKeyMaterial(t, "Issuer", r.Issuer)
	assertNoKeyMaterial(t, "DNSNames", strings.Join(r.DNSNames, " "))
	return r, nil
}

func mustCheck(t *testing.T, certPEM, keyPEM []byte, o certs.Options) *certs.Report {
	t.Helper()
	r, err := check(t, certPEM, keyPEM, o)
	if err != nil {
		t.Fatalf("Check: unexpected error: %v", err)
	}
	return r
}

func checkErr(t *testing.T, certPEM, keyPEM []byte, o certs.Options, want ...string) {
	t.Helper()
	r, err := check(t, certPEM, keyPEM, o)
	if err == nil {
		t.Fatalf("Check: no error, want one containing %q (report %+v)", want, r)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func assertNoWarnings(t *testing.T, r *certs.Report) {
	t.Helper()
	if len(r.Warnings) != 0 {
		t.Errorf("unexpected warnings: %q", r.Warnings)
	}
}

// oneWarning returns the only warning that contains marker.
func oneWarning(t *testing.T, r *certs.Report, marker string) string {
	t.Helper()
	var found []string
	for _, w := range r.Warnings {
		if strings.Contains(w, marker) {
			found = append(found, w)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one warning containing %q, got %q", marker, r.Warnings)
	}
	return found[0]
}

// encryptedPKCS8 is an "ENCRYPTED PRIVATE KEY" (PBES2 EncryptedPrivateKeyInfo
// with random ciphertext), as `openssl pkcs8 -topk8` writes.
func encryptedPKCS8(t *testing.T) []byte {
	t.Helper()
	ciphertext := make([]byte, 128)
	if _, err := rand.Read(ciphertext); err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, ciphertext})
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
	registerSecret(keyPEM)
	return keyPEM
}

// --- tests ---

// The leak detector itself must catch a piece of a key, or the leak
// assertions below could never fail.
func TestLeakDetectorCatchesKeyMaterial(t *testing.T) {
	_, keyPEM, err := newKey(ecPKCS8)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	body := base64.StdEncoding.EncodeToString(block.Bytes)
	lines := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")
	for name, text := range map[string]string{
		"a base64 line":        "tls: bad key " + lines[1],
		"a middle piece":       "x" + body[20:20+b64Window] + "x",
		"the body wrapped":     "key:\n" + body[:40] + "\n" + body[40:80],
		"hex of the DER":       fmt.Sprintf("key %x", block.Bytes[10:30]),
		"upper hex of the DER": fmt.Sprintf("key %X", block.Bytes[10:30]),
		"the whole PEM":        string(keyPEM),
		"the PEM armour":       "-----BEGIN PRIVATE KEY-----",
	} {
		if leak(text) == "" {
			t.Errorf("leak detector misses %s: %q", name, text)
		}
	}
	for _, clean := range []string{
		"tls.key does not match the certificate in tls.crt",
		"the certificate expired on 2026-05-01T12:00:00Z",
		"x509: certificate signed by unknown authority",
		serviceDNS,
	} {
		if l := leak(clean); l != "" {
			t.Errorf("leak detector flags clean text %q (%q)", clean, l)
		}
	}
}

func TestCheckGoodLeafSignedByCA(t *testing.T) {
	ca := testCA(t, "Test CA")
	for _, kind := range allKinds {
		t.Run(kind.String(), func(t *testing.T) {
			notBefore := now.Add(-48 * time.Hour)
			notAfter := now.Add(400 * day)
			l := leaf(t, ca, spec{
				cn:        "metrics",
				dns:       []string{"metrics.example", serviceDNS},
				notBefore: notBefore,
				notAfter:  notAfter,
				kind:      kind,
			})
			r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
			if want := subjectString("metrics"); r.Subject != want {
				t.Errorf("Subject = %q, want %q", r.Subject, want)
			}
			if want := subjectString("Test CA"); r.Issuer != want {
				t.Errorf("Issuer = %q, want %q", r.Issuer, want)
			}
			if want := []string{"metrics.example", serviceDNS}; !slices.Equal(r.DNSNames, want) {
				t.Errorf("DNSNames = %q, want %q", r.DNSNames, want)
			}
			if !r.NotBefore.Equal(notBefore) || !r.NotAfter.Equal(notAfter) {
				t.Errorf("validity = %s .. %s, want %s .. %s", r.NotBefore, r.NotAfter, notBefore, notAfter)
			}
			if got := r.DaysLeft(now); got != 400 {
				t.Errorf("DaysLeft(now) = %d, want 400", got)
			}
			if got := r.DaysLeft(now.Add(12 * time.Hour)); got != 399 {
				t.Errorf("DaysLeft(now+12h) = %d, want 399 (whole days left)", got)
			}
			if r.TrustedBy != "" {
				t.Errorf("TrustedBy = %q without Options.CA for a private CA, want \"\"", r.TrustedBy)
			}
			assertNoWarnings(t, r)
			if !r.HasName(serviceDNS) || r.HasName("other.elastic-system.svc") {
				t.Errorf("HasName is wrong for DNSNames %q", r.DNSNames)
			}

			r = mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now})
			if r.TrustedBy != "the given CA" {
				t.Errorf("TrustedBy = %q with Options.CA, want %q", r.TrustedBy, "the given CA")
			}
			assertNoWarnings(t, r)
		})
	}
}

func TestCheckTrustedBySystemRoots(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SSL_CERT_FILE sets the system roots on Linux only")
	}
	l := leaf(t, systemRoot, spec{})
	r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
	if r.TrustedBy != "the system roots" {
		t.Errorf("TrustedBy = %q, want %q", r.TrustedBy, "the system roots")
	}
	assertNoWarnings(t, r)
}

func TestCheckErrors(t *testing.T) {
	ca := testCA(t, "Test CA")
	otherCA := testCA(t, "Other CA")
	ec := leaf(t, ca, spec{kind: ecSEC1})
	ec2 := leaf(t, ca, spec{kind: ecPKCS8})
	rsaLeaf := leaf(t, ca, spec{kind: rsaPKCS1})
	rsa2 := leaf(t, ca, spec{kind: rsaPKCS8})
	expiredAt := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	expired := leaf(t, ca, spec{kind: rsaPKCS8, notBefore: now.Add(-100 * day), notAfter: expiredAt})
	validFrom := time.Date(2026, 6, 2, 8, 30, 0, 0, time.UTC)
	future := leaf(t, ca, spec{kind: ecPKCS8, notBefore: validFrom, notAfter: now.Add(300 * day)})

	keyBlock, _ := pem.Decode(rsa2.keyPEM)
	truncatedKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyBlock.Bytes[:len(keyBlock.Bytes)/2]})
	registerSecret(truncatedKey)
	certBlock, _ := pem.Decode(ec.certPEM)
	truncatedCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certBlock.Bytes[:len(certBlock.Bytes)/2]})

	opts := certs.Options{ServiceDNS: serviceDNS, Now: now}
	withCA := func(caPEM []byte) certs.Options { o := opts; o.CA = caPEM; return o }

	for _, tc := range []struct {
		name string
		cert []byte
		key  []byte
		o    certs.Options
		want []string
	}{
		{name: "cert is not PEM", cert: []byte("this is not a certificate\n"), key: ec.keyPEM, o: opts,
			want: []string{"tls.crt is not a PEM certificate"}},
		{name: "cert is empty", cert: nil, key: ec.keyPEM, o: opts,
			want: []string{"tls.crt is not a PEM certificate"}},
		{name: "cert is raw DER", cert: ec.cert.Raw, key: ec.keyPEM, o: opts,
			want: []string{"tls.crt is not a PEM certificate"}},
		{name: "cert is PEM of another type", cert: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ec.cert.RawSubjectPublicKeyInfo}), key: ec.keyPEM, o: opts,
			want: []string{"tls.crt is not a PEM certificate"}},
		{name: "cert and key switched", cert: ec.keyPEM, key: ec.certPEM, o: opts,
			want: []string{"tls.crt is not a PEM certificate"}},
		{name: "RSA key given as cert", cert: rsaLeaf.keyPEM, key: rsaLeaf.keyPEM, o: opts,
			want: []string{"tls.crt is not a PEM certificate"}},
		{name: "DER garbage in a CERTIFICATE block", cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("\x30\x03garbage bytes")}), key: ec.keyPEM, o: opts,
			want: []string{"tls.crt does not parse: x509:"}},
		{name: "truncated CERTIFICATE block", cert: truncatedCert, key: ec.keyPEM, o: opts,
			want: []string{"tls.crt does not parse: x509:"}},
		{name: "key DER in a CERTIFICATE block", cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: keyBlock.Bytes}), key: rsa2.keyPEM, o: opts,
			want: []string{"tls.crt does not parse: x509:"}},
		{name: "key is not PEM", cert: ec.certPEM, key: []byte("not a key"), o: opts,
			want: []string{"tls.key is not a PEM private key"}},
		{name: "key is empty", cert: ec.certPEM, key: nil, o: opts,
			want: []string{"tls.key is not a PEM private key"}},
		{name: "key is the certificate", cert: ec.certPEM, key: ec.certPEM, o: opts,
			want: []string{"tls.key is not a PEM private key"}},
		{name: "key is raw DER", cert: rsa2.certPEM, key: keyBlock.Bytes, o: opts,
			want: []string{"tls.key is not a PEM private key"}},
		{name: "key is encrypted PKCS#8", cert: rsa2.certPEM, key: encryptedPKCS8(t), o: opts,
			want: []string{"tls.key does not parse: tls:"}},
		{name: "key is truncated", cert: rsa2.certPEM, key: truncatedKey, o: opts,
			want: []string{"tls.key does not parse: tls: failed to parse private key"}},
		{name: "ECDSA key of another certificate", cert: ec.certPEM, key: ec2.keyPEM, o: opts,
			want: []string{"tls.key does not match the certificate in tls.crt"}},
		{name: "RSA key of another certificate", cert: rsaLeaf.certPEM, key: rsa2.keyPEM, o: opts,
			want: []string{"tls.key does not match the certificate in tls.crt"}},
		{name: "RSA key for an ECDSA certificate", cert: ec.certPEM, key: rsaLeaf.keyPEM, o: opts,
			want: []string{"tls.key does not match the certificate in tls.crt"}},
		{name: "ECDSA key for an RSA certificate", cert: rsaLeaf.certPEM, key: ec.keyPEM, o: opts,
			want: []string{"tls.key does not match the certificate in tls.crt"}},
		{name: "expired", cert: expired.certPEM, key: expired.keyPEM, o: opts,
			want: []string{"the certificate expired on 2026-05-01T12:00:00Z"}},
		{name: "expired one second ago", cert: expired.certPEM, key: expired.keyPEM, o: certs.Options{ServiceDNS: serviceDNS, Now: expiredAt.Add(time.Second)},
			want: []string{"the certificate expired on 2026-05-01T12:00:00Z"}},
		{name: "expired, judged with a non-UTC Now", cert: expired.certPEM, key: expired.keyPEM, o: certs.Options{Now: now.In(time.FixedZone("CEST", 2*3600))},
			want: []string{"the certificate expired on 2026-05-01T12:00:00Z"}},
		{name: "not yet valid", cert: future.certPEM, key: future.keyPEM, o: opts,
			want: []string{"the certificate is not valid yet: valid from 2026-06-02T08:30:00Z"}},
		{name: "expired, with a CA", cert: expired.certPEM, key: expired.keyPEM, o: withCA(ca.certPEM),
			want: []string{"the certificate expired on 2026-05-01T12:00:00Z"}},
		{name: "CA that did not sign it", cert: ec.certPEM, key: ec.keyPEM, o: withCA(otherCA.certPEM),
			want: []string{"the certificate is not signed by the given CA (", "x509: certificate signed by unknown authority", "Prometheus would refuse it"}},
		{name: "CA is the leaf's own sibling", cert: ec.certPEM, key: ec.keyPEM, o: withCA(ec2.certPEM),
			want: []string{"the certificate is not signed by the given CA"}},
		{name: "CA is not PEM", cert: ec.certPEM, key: ec.keyPEM, o: withCA([]byte("not a CA")),
			want: []string{"the CA certificate (ca.crt) is not PEM"}},
		{name: "CA is a private key", cert: ec.certPEM, key: ec.keyPEM, o: withCA(ca.keyPEM),
			want: []string{"the CA certificate (ca.crt) is not PEM"}},
		{name: "CA is DER garbage in a CERTIFICATE block", cert: ec.certPEM, key: ec.keyPEM, o: withCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})),
			want: []string{"the CA certificate (ca.crt) is not PEM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.cert, tc.key, tc.o, tc.want...)
		})
	}
}

// A certificate for clients only fails Prometheus's verification (it wants
// server auth); the error carries the real reason.
func TestCheckClientOnlyCertificate(t *testing.T) {
	ca := testCA(t, "Test CA")
	l := leaf(t, ca, spec{extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	checkErr(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now},
		"the certificate is not signed by the given CA", "incompatible key usage")
	r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
	if r.TrustedBy != "" {
		t.Errorf("TrustedBy = %q, want \"\"", r.TrustedBy)
	}
}

// Key checks come before validity: a wrong key for an expired certificate is
// reported as the wrong key.
func TestCheckKeyCheckedBeforeValidity(t *testing.T) {
	ca := testCA(t, "Test CA")
	expired := leaf(t, ca, spec{notBefore: now.Add(-100 * day), notAfter: now.Add(-day)})
	other := leaf(t, ca, spec{})
	checkErr(t, expired.certPEM, other.keyPEM, certs.Options{Now: now}, "tls.key does not match")
}

func TestCheckExpiryWarning(t *testing.T) {
	ca := testCA(t, "Test CA")
	notAfter := time.Date(2026, 6, 11, 12, 0, 0, 0, time.UTC) // 10 days after now
	for _, kind := range []keyKind{ecSEC1, rsaPKCS1} {
		t.Run(kind.String(), func(t *testing.T) {
			l := leaf(t, ca, spec{kind: kind, notBefore: now.Add(-300 * day), notAfter: notAfter})
			for _, o := range []certs.Options{
				{ServiceDNS: serviceDNS, Now: now},
				{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now},
			} {
				r := mustCheck(t, l.certPEM, l.keyPEM, o)
				if len(r.Warnings) != 1 {
					t.Fatalf("warnings = %q, want one about expiry", r.Warnings)
				}
				want := "the certificate expires in 10 days (2026-06-11T12:00:00Z): renew it soon"
				if r.Warnings[0] != want {
					t.Errorf("warning = %q, want %q", r.Warnings[0], want)
				}
				if r.DaysLeft(now) != 10 {
					t.Errorf("DaysLeft = %d, want 10", r.DaysLeft(now))
				}
			}
		})
	}
}

func TestCheckExpiryBoundary(t *testing.T) {
	ca := testCA(t, "Test CA")
	for _, tc := range []struct {
		name     string
		left     time.Duration
		wantWarn string // "" for no warning
		wantErr  string
	}{
		{name: "31 days", left: 31 * day},
		{name: "exactly 30 days", left: certs.ExpiryWarning},
		{name: "30 days less a second", left: certs.ExpiryWarning - time.Second,
			wantWarn: "the certificate expires in 29 days (2026-07-01T11:59:59Z)"},
		{name: "29 days", left: 29 * day,
			wantWarn: "the certificate expires in 29 days (2026-06-30T12:00:00Z)"},
		{name: "one hour", left: time.Hour,
			wantWarn: "the certificate expires in 0 days (2026-06-01T13:00:00Z)"},
		{name: "expires exactly now", left: 0,
			wantWarn: "the certificate expires in 0 days (2026-06-01T12:00:00Z)"},
		{name: "expired a second ago", left: -time.Second,
			wantErr: "the certificate expired on 2026-06-01T11:59:59Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := leaf(t, ca, spec{notBefore: now.Add(-300 * day), notAfter: now.Add(tc.left)})
			o := certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now}
			if tc.wantErr != "" {
				checkErr(t, l.certPEM, l.keyPEM, o, tc.wantErr)
				return
			}
			r := mustCheck(t, l.certPEM, l.keyPEM, o)
			if tc.wantWarn == "" {
				assertNoWarnings(t, r)
				return
			}
			if w := oneWarning(t, r, "expires in"); !strings.HasPrefix(w, tc.wantWarn) {
				t.Errorf("warning = %q, want it to start with %q", w, tc.wantWarn)
			}
		})
	}
}

// Validity starts at NotBefore inclusive.
func TestCheckValidFromBoundary(t *testing.T) {
	ca := testCA(t, "Test CA")
	l := leaf(t, ca, spec{notBefore: now, notAfter: now.Add(100 * day)})
	r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now})
	assertNoWarnings(t, r)
	checkErr(t, l.certPEM, l.keyPEM, certs.Options{Now: now.Add(-time.Second)},
		"the certificate is not valid yet: valid from 2026-06-01T12:00:00Z")
}

func TestCheckSANWarning(t *testing.T) {
	ca := testCA(t, "Test CA")
	for _, tc := range []struct {
		name      string
		cn        string
		dns       []string
		wantNames string // "" for no SAN warning
	}{
		{name: "other names", dns: []string{"metrics.example", "elastic-operator.elastic-system.svc"},
			wantNames: "(metrics.example, elastic-operator.elastic-system.svc)"},
		{name: "service in another namespace", dns: []string{"elastic-operator-metrics.other.svc"},
			wantNames: "(elastic-operator-metrics.other.svc)"},
		{name: "full cluster name only", dns: []string{serviceDNS + ".cluster.local"},
			wantNames: "(" + serviceDNS + ".cluster.local)"},
		{name: "no DNS names, service in the CN", cn: serviceDNS, dns: []string{},
			wantNames: "(no DNS names)"},
		{name: "exact name, other case", dns: []string{strings.ToUpper(serviceDNS)}},
		{name: "exact name among others", dns: []string{"a.example", serviceDNS, "b.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := leaf(t, ca, spec{cn: tc.cn, dns: tc.dns})
			r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now})
			if r.TrustedBy != "the given CA" {
				t.Errorf("TrustedBy = %q: a SAN mismatch must not fail verification against the CA", r.TrustedBy)
			}
			if tc.wantNames == "" {
				assertNoWarnings(t, r)
				return
			}
			want := "the certificate's SANs " + tc.wantNames + " do not contain " + serviceDNS + ", so Prometheus's verification will fail"
			if w := oneWarning(t, r, "SANs"); w != want {
				t.Errorf("warning = %q, want %q", w, want)
			}
			if len(r.Warnings) != 1 {
				t.Errorf("warnings = %q, want only the SAN one", r.Warnings)
			}
		})
	}

	t.Run("no ServiceDNS, no SAN warning", func(t *testing.T) {
		l := leaf(t, ca, spec{dns: []string{"metrics.example"}})
		r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{Now: now})
		assertNoWarnings(t, r)
	})

	t.Run("SAN and expiry warnings together", func(t *testing.T) {
		l := leaf(t, ca, spec{dns: []string{"metrics.example"}, notBefore: now.Add(-day), notAfter: now.Add(5 * day)})
		r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
		if len(r.Warnings) != 2 {
			t.Fatalf("warnings = %q, want expiry then SAN", r.Warnings)
		}
		if !strings.Contains(r.Warnings[0], "expires in 5 days") || !strings.Contains(r.Warnings[1], "(metrics.example) do not contain "+serviceDNS) {
			t.Errorf("warnings = %q, want expiry then SAN", r.Warnings)
		}
	})
}

// SANs match with the semantics of x509.Certificate.VerifyHostname, which is
// what Prometheus's TLS client applies: a wildcard stands for one label.
func TestCheckWildcardSAN(t *testing.T) {
	ca := testCA(t, "Test CA")
	for _, tc := range []struct {
		dns   []string
		match bool
	}{
		{dns: []string{"*.elastic-system.svc"}, match: true},
		{dns: []string{"*.ELASTIC-SYSTEM.svc"}, match: true},
		{dns: []string{"metrics.example", "*.elastic-system.svc"}, match: true},
		{dns: []string{"*.svc"}, match: false},                              // one label only
		{dns: []string{"*.other.svc"}, match: false},                        // another namespace
		{dns: []string{"*.elastic-system.svc.cluster.local"}, match: false}, // another suffix
		{dns: []string{"elastic-operator-*.elastic-system.svc"}, match: false},
	} {
		t.Run(strings.Join(tc.dns, ","), func(t *testing.T) {
			l := leaf(t, ca, spec{dns: tc.dns})
			if got := l.cert.VerifyHostname(serviceDNS) == nil; got != tc.match {
				t.Fatalf("test premise: VerifyHostname matches = %v, want %v", got, tc.match)
			}
			r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now})
			if tc.match {
				assertNoWarnings(t, r)
				return
			}
			w := oneWarning(t, r, "SANs")
			if want := "(" + strings.Join(tc.dns, ", ") + ") do not contain " + serviceDNS; !strings.Contains(w, want) {
				t.Errorf("warning = %q, want it to contain %q", w, want)
			}
		})
	}

	// A wildcard one label deeper does not match the service name.
	l := leaf(t, ca, spec{dns: []string{"*.elastic-system.svc"}})
	r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: "a." + serviceDNS, Now: now})
	oneWarning(t, r, "do not contain a."+serviceDNS)
}

func TestCheckChain(t *testing.T) {
	root := testCA(t, "Test Root CA")
	inter := mustIssue(t, spec{cn: "Test Intermediate CA", isCA: true, parent: root, notAfter: now.Add(5 * 365 * day)})
	for _, kind := range allKinds {
		t.Run(kind.String(), func(t *testing.T) {
			l := leaf(t, inter, spec{kind: kind})
			bundle := cat(l.certPEM, inter.certPEM)

			r := mustCheck(t, bundle, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: root.certPEM, Now: now})
			if r.TrustedBy != "the given CA" {
				t.Errorf("TrustedBy = %q, want %q", r.TrustedBy, "the given CA")
			}
			if want := subjectString("Test Intermediate CA"); r.Issuer != want {
				t.Errorf("Issuer = %q, want %q (the leaf's, not the root's)", r.Issuer, want)
			}
			if want := subjectString("elastic-operator-metrics"); r.Subject != want {
				t.Errorf("Subject = %q, want %q (the first certificate of the bundle)", r.Subject, want)
			}
			assertNoWarnings(t, r)

			// A bundle that also holds the root verifies the same.
			r = mustCheck(t, cat(bundle, root.certPEM), l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: root.certPEM, Now: now})
			if r.TrustedBy != "the given CA" {
				t.Errorf("bundle with root: TrustedBy = %q", r.TrustedBy)
			}

			// Without the intermediate the root cannot vouch for the leaf.
			checkErr(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: root.certPEM, Now: now},
				"the certificate is not signed by the given CA", "unknown authority")

			// The intermediate as the CA is a trust anchor of its own.
			r = mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: inter.certPEM, Now: now})
			if r.TrustedBy != "the given CA" {
				t.Errorf("CA = intermediate: TrustedBy = %q", r.TrustedBy)
			}

			// Without a CA, a private root is trusted by nobody.
			r = mustCheck(t, bundle, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
			if r.TrustedBy != "" {
				t.Errorf("no CA: TrustedBy = %q, want \"\"", r.TrustedBy)
			}
		})
	}

	t.Run("CA bundle with the root among others", func(t *testing.T) {
		l := leaf(t, inter, spec{})
		caBundle := cat(testCA(t, "Unrelated CA").certPEM, root.certPEM)
		r := mustCheck(t, cat(l.certPEM, inter.certPEM), l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: caBundle, Now: now})
		if r.TrustedBy != "the given CA" {
			t.Errorf("TrustedBy = %q", r.TrustedBy)
		}
	})

	t.Run("intermediate first in tls.crt", func(t *testing.T) {
		l := leaf(t, inter, spec{})
		checkErr(t, cat(inter.certPEM, l.certPEM), l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: root.certPEM, Now: now},
			"tls.key does not match the certificate in tls.crt")
	})

	t.Run("expired intermediate", func(t *testing.T) {
		oldInter := mustIssue(t, spec{cn: "Old Intermediate CA", isCA: true, parent: root, notBefore: now.Add(-400 * day), notAfter: now.Add(-day)})
		l := leaf(t, oldInter, spec{})
		checkErr(t, cat(l.certPEM, oldInter.certPEM), l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: root.certPEM, Now: now},
			"the certificate is not signed by the given CA", "expired")
	})

	t.Run("leaf of the system root through an intermediate", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("SSL_CERT_FILE sets the system roots on Linux only")
		}
		sysInter := mustIssue(t, spec{cn: "System Intermediate CA", isCA: true, parent: systemRoot, notAfter: now.Add(5 * 365 * day)})
		l := leaf(t, sysInter, spec{})
		r := mustCheck(t, cat(l.certPEM, sysInter.certPEM), l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
		if r.TrustedBy != "the system roots" {
			t.Errorf("TrustedBy = %q, want %q", r.TrustedBy, "the system roots")
		}
		r = mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
		if r.TrustedBy != "" {
			t.Errorf("without the intermediate: TrustedBy = %q, want \"\"", r.TrustedBy)
		}
	})
}

func TestUnknownCAWarning(t *testing.T) {
	ca := testCA(t, "Private Metrics CA")
	l := leaf(t, ca, spec{kind: rsaPKCS8})
	r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
	if r.TrustedBy != "" {
		t.Fatalf("TrustedBy = %q, want \"\" for a private CA", r.TrustedBy)
	}
	w := certs.UnknownCAWarning(r)
	for _, want := range []string{
		`"CN=Private Metrics CA,O=eck-metrics test"`,
		"--ca-secret",
		"insecureSkipVerify",
	} {
		if !strings.Contains(w, want) {
			t.Errorf("UnknownCAWarning = %q, want it to contain %q", w, want)
		}
	}
	if strings.Contains(w, r.Subject) {
		t.Errorf("UnknownCAWarning = %q names the subject %q, want the issuer", w, r.Subject)
	}

	// Self-signed: the issuer is the certificate itself.
	self := mustIssue(t, spec{cn: "self", dns: []string{serviceDNS}, kind: ecSEC1})
	r = mustCheck(t, self.certPEM, self.keyPEM, certs.Options{ServiceDNS: serviceDNS, Now: now})
	if r.TrustedBy != "" {
		t.Errorf("self-signed: TrustedBy = %q, want \"\"", r.TrustedBy)
	}
	if w := certs.UnknownCAWarning(r); !strings.Contains(w, `"CN=self,O=eck-metrics test"`) {
		t.Errorf("UnknownCAWarning = %q, want the self-signed issuer", w)
	}
}

// Real tools write PEM with comments and extra blocks around the ones that
// matter; crypto/tls (and so `kubectl create secret tls`) accepts them.
func TestCheckTolerantPEM(t *testing.T) {
	ca := testCA(t, "Test CA")
	l := leaf(t, ca, spec{kind: rsaPKCS1})
	o := certs.Options{ServiceDNS: serviceDNS, CA: ca.certPEM, Now: now}

	t.Run("text before the blocks", func(t *testing.T) {
		cert := cat([]byte("subject=CN=elastic-operator-metrics\nissuer=CN=Test CA\n"), l.certPEM)
		key := cat([]byte("Bag Attributes\n    localKeyID: 01\n"), l.keyPEM)
		r := mustCheck(t, cert, key, o)
		if r.TrustedBy != "the given CA" {
			t.Errorf("TrustedBy = %q", r.TrustedBy)
		}
	})

	t.Run("CA with text around it", func(t *testing.T) {
		r := mustCheck(t, l.certPEM, l.keyPEM, certs.Options{ServiceDNS: serviceDNS, CA: cat([]byte("# our CA\n"), ca.certPEM, []byte("\n")), Now: now})
		if r.TrustedBy != "the given CA" {
			t.Errorf("TrustedBy = %q", r.TrustedBy)
		}
	})

	// Files that crypto/tls accepts because it skips the blocks it does not
	// want; Check looks only at the first block of each file.
	ecLeaf := leaf(t, ca, spec{kind: ecSEC1})
	params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}})
	for _, tc := range []struct {
		name, cert, key, bug string
	}{
		{
			name: "EC PARAMETERS before EC PRIVATE KEY in tls.key",
			cert: string(ecLeaf.certPEM), key: string(cat(params, ecLeaf.keyPEM)),
			bug: "`openssl ecparam -name prime256v1 -genkey` writes an EC PARAMETERS block before the EC PRIVATE KEY by default; " +
				"certs.go:65 requires the FIRST block of tls.key to contain \"PRIVATE KEY\", so Check refuses a key that " +
				"tls.X509KeyPair (called next, certs.go:68) and `kubectl create secret tls` accept",
		},
		{
			name: "combined certificate+key file as tls.key",
			cert: string(ecLeaf.certPEM), key: string(cat(ecLeaf.certPEM, ecLeaf.keyPEM)),
			bug: "certs.go:65 requires the FIRST block of tls.key to contain \"PRIVATE KEY\"; a combined cert+key PEM " +
				"(the same file given to --cert and --key) is refused though tls.X509KeyPair accepts it",
		},
		{
			name: "combined key+certificate file as tls.crt",
			cert: string(cat(ecLeaf.keyPEM, ecLeaf.certPEM)), key: string(ecLeaf.keyPEM),
			bug: "ParseCertificate (certs.go:45-48) is documented to read \"the first certificate of a PEM bundle\" " +
				"but fails unless the first PEM block is a CERTIFICATE, so tls.crt with a key block first is refused " +
				"though tls.X509KeyPair accepts it",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tlsAccepts([]byte(tc.cert), []byte(tc.key)); err != nil {
				t.Fatalf("test premise: crypto/tls refuses the pair: %v", err)
			}
			r, err := check(t, []byte(tc.cert), []byte(tc.key), o)
			if err != nil {
				t.Fatalf("Check refuses a pair crypto/tls accepts: %v (%s)", err, tc.bug)
			}
			if r.TrustedBy != "the given CA" || r.Subject != subjectString("elastic-operator-metrics") {
				t.Errorf("TrustedBy = %q, Subject = %q", r.TrustedBy, r.Subject)
			}
			assertNoWarnings(t, r)
		})
	}
}
