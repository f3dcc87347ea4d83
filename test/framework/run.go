package framework

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
)

// Result is what one run of the plugin printed and returned.
type Result struct {
	Stdout, Stderr string
	Err            error
	Requests       int64 // API requests sent
}

// Run runs the real root command with the admin's kubeconfig.
func (c *Cluster) Run(t testing.TB, args ...string) Result {
	t.Helper()
	return c.RunWith(t, c.Kubeconfig, nil, args...)
}

// RunAs runs the real root command with a kubeconfig.
func (c *Cluster) RunAs(t testing.TB, kubeconfig string, args ...string) Result {
	t.Helper()
	return c.RunWith(t, kubeconfig, nil, args...)
}

// RunWith runs the real root command in process, counting its API
// requests; wrap, when set, sits between the plugin and the API server (to
// record requests or inject faults).
func (c *Cluster) RunWith(t testing.TB, kubeconfig string, wrap func(http.RoundTripper) http.RoundTripper, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	var requests atomic.Int64
	flags := genericclioptions.NewConfigFlags(true)
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			if wrap != nil {
				rt = wrap(rt)
			}
			return countingTransport{rt, &requests}
		})
		return c
	}
	root := cmd.NewCmdRootWithConfigFlags(flags, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	err := cmd.Execute(root)
	return Result{Stdout: out.String(), Stderr: errOut.String(), Err: err, Requests: requests.Load()}
}

// countingTransport counts the API requests one command sends.
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	return c.next.RoundTrip(r)
}

// ExpectOneLineRefusal: the command failed with an error of one line that
// says want, and printed no private key.
func ExpectOneLineRefusal(t testing.TB, r Result, want string) {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("no error; stdout:\n%s\nstderr:\n%s", r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Err.Error(), want) {
		t.Errorf("error %q does not say %q", r.Err, want)
	}
	if strings.Contains(r.Err.Error(), "\n") {
		t.Errorf("error is not one line: %q", r.Err)
	}
	AssertNoKeyMaterial(t, r)
}

// AssertNoKeyMaterial fails when any output holds a PEM private key, or
// one of keys as PEM, as base64 of its PEM or of its DER.
func AssertNoKeyMaterial(t testing.TB, r Result, keys ...[]byte) {
	t.Helper()
	b64 := base64.StdEncoding.EncodeToString
	for _, out := range []string{r.Stdout, r.Stderr} {
		if bytes.Contains([]byte(out), []byte("PRIVATE KEY")) {
			t.Errorf("output holds a PEM private key")
		}
		for _, k := range keys {
			block, _ := pem.Decode(k)
			if block == nil {
				continue
			}
			if bytes.Contains([]byte(out), k) || bytes.Contains([]byte(out), []byte(b64(block.Bytes))) || bytes.Contains([]byte(out), []byte(b64(k))) {
				t.Errorf("output holds the private key")
			}
		}
	}
}
