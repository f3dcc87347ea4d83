// Package framework is what the integration and e2e tests share: a control
// plane (envtest) with its clients and users, the real root command run in
// process, fixtures, snapshots of what a command could touch, CRD installs
// and RBAC waits. Nothing here is global: each test package starts one
// Cluster in its TestMain and passes it around.
package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Cluster is one test control plane and the admin's clients of it.
type Cluster struct {
	Env        *envtest.Environment
	Config     *rest.Config
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface
	Kubeconfig string // the admin's (system:masters)

	base            context.Context // ends every step of a test early (make demo's Ctrl-C)
	dir             string          // kubeconfigs written by Start
	certManagerCRDs func() ([]*apiextensionsv1.CustomResourceDefinition, error)
}

// Options says how to start a Cluster.
type Options struct {
	// Assets holds kube-apiserver and etcd; AssetsDir() when empty.
	Assets string
	// CRDDirs are installed with the control plane and stay for the whole run.
	CRDDirs []string
	// Base, when set, ends every Context early when it is done.
	Base context.Context
	// NoWarnings keeps the API server's deprecation warnings out of the
	// log of the test's own clients.
	NoWarnings bool
}

// RepoRoot is the root of this repository (testdata, bin, go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AssetsDir holds the control plane's binaries (and kubectl):
// KUBEBUILDER_ASSETS, or bin/k8s as make test builds it.
func AssetsDir() string {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir
	}
	return filepath.Join(RepoRoot(), "bin", "k8s")
}

// Start starts etcd and kube-apiserver and writes the admin's kubeconfig.
// The caller stops the Cluster.
func Start(opts Options) (*Cluster, error) {
	assets := opts.Assets
	if assets == "" {
		assets = AssetsDir()
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			return nil, fmt.Errorf("missing %s in %s: run 'make test' (it builds the control plane first)", bin, assets)
		}
	}
	c := &Cluster{base: opts.Base, certManagerCRDs: sync.OnceValues(readCertManagerCRDs)}
	if c.base == nil {
		c.base = context.Background()
	}
	c.Env = &envtest.Environment{BinaryAssetsDirectory: assets, CRDDirectoryPaths: opts.CRDDirs, ErrorIfCRDPathMissing: len(opts.CRDDirs) > 0}
	cfg, err := c.Env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	if opts.NoWarnings {
		cfg.WarningHandler = rest.NoWarnings{}
	}
	c.Config = cfg
	c.Kube = kubernetes.NewForConfigOrDie(cfg)
	c.Dynamic = dynamic.NewForConfigOrDie(cfg)
	if c.dir, err = os.MkdirTemp("", "eck-metrics-cluster"); err != nil {
		_ = c.Stop()
		return nil, err
	}
	if c.Kubeconfig, err = c.WriteKubeconfig(c.dir, envtest.User{Name: "admin", Groups: []string{"system:masters"}}); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("admin kubeconfig: %w", err)
	}
	return c, nil
}

// Stop stops the control plane and removes the kubeconfigs Start wrote.
func (c *Cluster) Stop() error {
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
	return c.Env.Stop()
}

// WriteKubeconfig writes a kubeconfig of a user of the control plane into dir.
func (c *Cluster) WriteKubeconfig(dir string, user envtest.User) (string, error) {
	u, err := c.Env.ControlPlane.AddUser(user, nil)
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

// Context bounds a step of a test (two minutes), ended early with the
// Cluster's base context.
func (c *Cluster) Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(c.base, 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// NewNamespace creates a namespace of its own for one test.
func (c *Cluster) NewNamespace(t testing.TB, prefix string) string {
	t.Helper()
	name := prefix + "-" + rand.String(5)
	_, err := c.Kube.CoreV1().Namespaces().Create(c.Context(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// EnsureNamespace creates a fixed namespace (elastic-system) unless it exists.
func (c *Cluster) EnsureNamespace(t testing.TB, name string) {
	t.Helper()
	_, err := c.Kube.CoreV1().Namespaces().Create(c.Context(t), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}
