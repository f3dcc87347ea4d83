// Package integration runs the real root command against a real
// kube-apiserver and etcd (envtest), on fixtures modelled on real ECK installs.
package integration

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/cmd"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// cluster is the one control plane of this package (starting one costs seconds).
var cluster struct {
	env        *envtest.Environment
	config     *rest.Config
	kube       kubernetes.Interface
	dynamic    dynamic.Interface
	kubeconfig string // admin
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func TestMain(m *testing.M) {
	if os.Getenv(runPluginEnv) != "" {
		// A fresh process of the plugin, for the per-process benchmarks.
		os.Exit(cmd.Run(os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
	}
	flag.Parse()
	if testing.Short() {
		fmt.Println("integration tests need the test apiserver: skipped in -short mode")
		os.Exit(0)
	}
	os.Exit(runWithCluster(m))
}

func runWithCluster(m *testing.M) int {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(repoRoot(), "bin", "k8s")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			fmt.Fprintf(os.Stderr, "missing %s in %s: run 'make test' (it builds the control plane first)\n", bin, assets)
			return 1
		}
	}
	cluster.env = &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := cluster.env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		return 1
	}
	defer func() { _ = cluster.env.Stop() }()
	cluster.config = cfg
	cluster.kube = kubernetes.NewForConfigOrDie(cfg)
	cluster.dynamic = dynamic.NewForConfigOrDie(cfg)
	dir, err := os.MkdirTemp("", "eck-metrics-it")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cluster.kubeconfig, err = writeKubeconfig(dir, envtest.User{Name: "admin", Groups: []string{"system:masters"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin kubeconfig:", err)
		return 1
	}
	return m.Run()
}

// writeKubeconfig writes a kubeconfig of a user of the test apiserver.
func writeKubeconfig(dir string, user envtest.User) (string, error) {
	u, err := cluster.env.ControlPlane.AddUser(user, nil)
	if err != nil {
		return "", err
	}
	raw, err := u.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, user.Name+".kubeconfig")
	return path, os.WriteFile(path, raw, 0o600)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// result is what one run of the plugin printed.
type result struct {
	stdout, stderr string
	err            error
	requests       int64
}

// run runs the real root command with the admin kubeconfig.
func run(t testing.TB, args ...string) result {
	return runAs(t, cluster.kubeconfig, args...)
}

// runAs runs the real root command with a kubeconfig, counting API requests.
func runAs(t testing.TB, kubeconfig string, args ...string) result {
	return runWith(t, kubeconfig, nil, args...)
}

// runWith runs the real root command; wrap, when set, sits between the
// plugin and the API server (to record requests or inject faults).
func runWith(t testing.TB, kubeconfig string, wrap func(http.RoundTripper) http.RoundTripper, args ...string) result {
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
	return result{stdout: out.String(), stderr: errOut.String(), err: err, requests: requests.Load()}
}

// newNamespace creates a namespace of its own for one test.
func newNamespace(t testing.TB, prefix string) string {
	t.Helper()
	name := prefix + "-" + rand.String(5)
	_, err := cluster.kube.CoreV1().Namespaces().Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// ensureNamespace creates a fixed namespace (elastic-system) once.
func ensureNamespace(t testing.TB, name string) {
	t.Helper()
	_, err := cluster.kube.CoreV1().Namespaces().Create(ctx(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// expectOneLineRefusal: the command failed with an error of one line that
// says want, and printed no private key.
func expectOneLineRefusal(t testing.TB, r result, want string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("no error; stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.err.Error(), want) {
		t.Errorf("error %q does not say %q", r.err, want)
	}
	if strings.Contains(r.err.Error(), "\n") {
		t.Errorf("error is not one line: %q", r.err)
	}
	assertNoKeyMaterial(t, r)
}
