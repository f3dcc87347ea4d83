//go:build e2e

// Package e2e proves the whole chain with the real programs: the plugin
// configures the real ECK operator (native mode on 3.5.0, the kube-rbac-proxy
// sidecar on 2.15.0), the real prometheus-operator turns the plugin's
// ServiceMonitor into a scrape job, and a real Prometheus scrapes the
// operator with it. There is no kubelet in the test control plane: the test
// plays the kubelet (kubelet_test.go) and starts each container's program
// with what its pod would get, read back from the objects in the API server.
//
// Run with `make e2e`; it needs root (private mount namespaces) and the
// binaries of bin/e2e (E2E_BIN) and bin/k8s (KUBEBUILDER_ASSETS).
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	"testing"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"
)

// cluster is the one control plane of this package, with what runs beside it
// for every test: the plugin binary and prometheus-operator.
var cluster struct {
	*framework.Cluster
	apiHost string // 127.0.0.1
	apiPort string
	plugin  string // the kubectl-eck_metrics binary under test
	bin     string // E2E_BIN
}

func TestMain(m *testing.M) {
	if os.Getenv("DEMO") != "" {
		startDemo()
	}
	code := runWithCluster(m)
	if demo.on {
		fmt.Println("stopped: every process the demo started has ended and its temporary files are removed")
	}
	os.Exit(code)
}

// demo is set for make demo (DEMO=1, TestDemo): progress lines on stdout,
// the programs in their own process group (Ctrl-C reaches the test, which
// stops them in order), and stop, done on SIGINT or SIGTERM.
var demo struct {
	on      bool
	stop    context.Context
	started time.Time
}

func startDemo() {
	demo.on, demo.started = true, time.Now()
	c, cancel := context.WithCancel(context.Background())
	demo.stop = c
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Printf("\n%s: stopping everything the demo started…\n", s)
		cancel()
	}()
}

// demof prints a progress line of make demo.
func demof(format string, args ...any) {
	if demo.on {
		fmt.Printf(format+"\n", args...)
	}
}

func runWithCluster(m *testing.M) int {
	logf.SetLogger(logr.Discard()) // envtest's CRD helpers log through controller-runtime
	assets := framework.AssetsDir()
	cluster.bin = os.Getenv("E2E_BIN")
	if cluster.bin == "" {
		cluster.bin = filepath.Join(framework.RepoRoot(), "bin", "e2e")
	}
	var missing []string
	for _, p := range []string{
		filepath.Join(assets, "kube-apiserver"), filepath.Join(assets, "etcd"),
		binary("eck-operator-3.5.0"), binary("eck-operator-2.15.0"), binary("kube-rbac-proxy"),
		binary("prometheus-operator"), binary("prometheus"), binary("promtool"),
		crdDir("prometheus-operator"), crdDir("eck-3.5.0"), crdDir("eck-2.15.0"),
	} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: missing %v: run 'make e2e' (it builds them first)\n", missing)
		return 1
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: must run as root: the test plays the kubelet with private mount namespaces")
		return 1
	}

	tmp, err := os.MkdirTemp("", "eck-metrics-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	demof("building the plugin…")
	cluster.plugin = filepath.Join(tmp, "kubectl-eck_metrics")
	build := exec.Command("go", "build", "-o", cluster.plugin, "./cmd/kubectl-eck-metrics")
	build.Dir = framework.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build the plugin: %v\n%s", err, out)
		return 1
	}

	// prometheus-operator's CRDs (ServiceMonitor among them) stay for the
	// whole run; each test installs the ECK CRDs of its operator version.
	// The endpoints the test writes as the controllers would include v1
	// Endpoints, deprecated since 1.33: do not log that on every sync.
	demof("starting the control plane (etcd, kube-apiserver)…")
	c, err := framework.Start(framework.Options{Assets: assets, CRDDirs: []string{crdDir("prometheus-operator")}, Base: demo.stop, NoWarnings: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() { _ = c.Stop() }()
	cluster.Cluster = c
	u := cluster.Env.ControlPlane.APIServer.SecureServing.ListenAddr
	cluster.apiHost, cluster.apiPort = u.Address, u.Port

	// prometheus-operator is not under test: it runs as itself, outside any
	// pod, with its own ServiceAccount's token and RBAC (KUBECONFIG: it has
	// no --kubeconfig flag).
	promOpKubeconfig, err := prometheusOperatorKubeconfig(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: prometheus-operator's ServiceAccount:", err)
		return 1
	}
	port, err := freePort()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	demof("starting prometheus-operator…")
	promOp := exec.Command(binary("prometheus-operator"), "--web.listen-address=127.0.0.1:"+port)
	promOp.Env = append(baseEnv(), "KUBECONFIG="+promOpKubeconfig)
	op, err := startProcess("prometheus-operator", filepath.Join(tmp, "prometheus-operator.log"), promOp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start prometheus-operator:", err)
		return 1
	}
	defer op.stop()
	time.Sleep(time.Second)
	if !op.running() {
		fmt.Fprintf(os.Stderr, "e2e: prometheus-operator exited:\n%s\n", op.tail(40))
		return 1
	}
	promOperator = op

	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- prometheus-operator log (tail) ---\n%s\n", op.tail(60))
	}
	return code
}

// promOperator is the one prometheus-operator process (its log helps when a
// Prometheus never gets its config).
var promOperator *process

func binary(name string) string { return filepath.Join(cluster.bin, name) }
func crdDir(name string) string { return filepath.Join(cluster.bin, "crds", name) }

// baseEnv is the environment of processes started outside pods: the test's
// own, without a kubeconfig of the user running the tests.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) >= 11 && kv[:11] == "KUBECONFIG=" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// prometheusOperatorKubeconfig installs prometheus-operator's own
// ServiceAccount, ClusterRole and binding (testdata/e2e, from its example
// install) and writes a kubeconfig with a token of that ServiceAccount.
func prometheusOperatorKubeconfig(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "testdata", "e2e", "prometheus-operator-0.85.0-rbac.yaml"))
	if err != nil {
		return "", err
	}
	docs := strings.Split(string(raw), "\n---\n")
	if len(docs) != 3 {
		return "", fmt.Errorf("prometheus-operator RBAC: %d documents, want ServiceAccount, ClusterRole, ClusterRoleBinding", len(docs))
	}
	sa, role, binding := &corev1.ServiceAccount{}, &rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}
	for i, obj := range []any{sa, role, binding} {
		if err := yaml.UnmarshalStrict([]byte(docs[i]), obj); err != nil {
			return "", fmt.Errorf("prometheus-operator RBAC document %d: %w", i+1, err)
		}
	}
	c := context.Background()
	if _, err := cluster.Kube.CoreV1().ServiceAccounts(sa.Namespace).Create(c, sa, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Create(c, role, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoleBindings().Create(c, binding, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	tr, err := cluster.Kube.CoreV1().ServiceAccounts(sa.Namespace).CreateToken(c, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	conf := clientcmdapi.NewConfig()
	conf.Clusters["e2e"] = &clientcmdapi.Cluster{Server: cluster.Config.Host, CertificateAuthorityData: cluster.Config.CAData}
	conf.AuthInfos[sa.Name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	conf.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: sa.Name}
	conf.CurrentContext = "e2e"
	path := filepath.Join(dir, "prometheus-operator.kubeconfig")
	return path, clientcmd.WriteToFile(*conf, path)
}
