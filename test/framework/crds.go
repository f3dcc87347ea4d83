package framework

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// CertManagerModule holds cert-manager's CRDs in deploy/crds: plain
// controller-gen output (the Helm chart templates its own copy).
const CertManagerModule = "github.com/cert-manager/cert-manager@v1.21.2"

var certManagerCRDFiles = []string{"cert-manager.io_certificates.yaml", "cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml"}

// readCertManagerCRDs finds the module with go mod download (the module
// cache or the proxy must have it) and reads its CRDs.
func readCertManagerCRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	cmd := exec.Command("go", "mod", "download", "-json", CertManagerModule)
	cmd.Dir = RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, err
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range certManagerCRDFiles {
		raw, err := os.ReadFile(filepath.Join(mod.Dir, "deploy", "crds", f))
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			return nil, err
		}
		crds = append(crds, crd)
	}
	return crds, nil
}

// InstallCertManagerCRDs installs cert-manager's real CRDs (from its
// module) for one test and removes them after.
func (c *Cluster) InstallCertManagerCRDs(t testing.TB) {
	t.Helper()
	crds, err := c.certManagerCRDs()
	if err != nil {
		t.Fatalf("cert-manager CRDs from %s: %v", CertManagerModule, err)
	}
	c.InstallCRDs(t, crds...)
}

// InstallServiceMonitorCRD installs prometheus-operator's real
// ServiceMonitor CRD for one test and removes it after.
func (c *Cluster) InstallServiceMonitorCRD(t testing.TB) {
	t.Helper()
	c.InstallMonitoringCRDs(t, "servicemonitors")
}

// InstallMonitoringCRDs installs prometheus-operator's real CRDs (v0.85.0,
// copied to testdata/crds) of the given resources, e.g. "podmonitors" or
// "prometheuses", for one test and removes them after.
func (c *Cluster) InstallMonitoringCRDs(t testing.TB, resources ...string) {
	t.Helper()
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, r := range resources {
		raw, err := os.ReadFile(filepath.Join(RepoRoot(), "testdata", "crds", "monitoring.coreos.com_"+r+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			t.Fatal(err)
		}
		crds = append(crds, crd)
	}
	c.InstallCRDs(t, crds...)
}

// InstallCRDs installs crds for one test and removes them after.
func (c *Cluster) InstallCRDs(t testing.TB, crds ...*apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	// envtest writes into the objects it installs: give it copies.
	var copies []*apiextensionsv1.CustomResourceDefinition
	for _, crd := range crds {
		copies = append(copies, crd.DeepCopy())
	}
	c.installCRDs(t, envtest.CRDInstallOptions{CRDs: copies})
}

// InstallCRDDir installs the CRDs of the files in dir for one test and
// removes them after.
func (c *Cluster) InstallCRDDir(t testing.TB, dir string) {
	t.Helper()
	c.installCRDs(t, envtest.CRDInstallOptions{Paths: []string{dir}, ErrorIfPathMissing: true})
}

// installCRDs: each CRD is ready once discovery serves its resource in each
// of its served versions (PrometheusAgent is v1alpha1 only), as the plugin
// asks discovery; and gone once its object is and discovery serves it no
// more: the next test's install of a CRD of the same name (another ECK
// version, the same monitoring CRD) would wait in vain for one still
// terminating.
func (c *Cluster) installCRDs(t testing.TB, opts envtest.CRDInstallOptions) {
	t.Helper()
	// The big CRDs (Prometheus: 13k lines) can take their time on a busy machine.
	opts.MaxTime = time.Minute
	crds, err := envtest.InstallCRDs(c.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, crd := range crds {
		names = append(names, crd.Name)
	}
	t.Cleanup(func() {
		if err := envtest.UninstallCRDs(c.Config, opts); err != nil {
			t.Error(err)
		}
		// Not the base context: a demo stopped early still cleans up.
		crdRes := c.Dynamic.Resource(apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
		err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			for _, crd := range crds {
				if _, err := crdRes.Get(ctx, crd.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
					return false, nil
				}
			}
			served, _ := c.servedCRDVersions(crds)
			return served == 0, nil
		})
		if err != nil {
			t.Errorf("CRDs %v not removed: %v", names, err)
		}
	})
	err = wait.PollUntilContextTimeout(c.Context(t), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		served, all := c.servedCRDVersions(crds)
		return served == all, nil
	})
	if err != nil {
		t.Fatalf("CRDs %v not served: %v", names, err)
	}
}

// servedCRDVersions counts the served versions of crds, and how many of
// them discovery serves their resource in.
func (c *Cluster) servedCRDVersions(crds []*apiextensionsv1.CustomResourceDefinition) (inDiscovery, all int) {
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			all++
			list, err := c.Kube.Discovery().ServerResourcesForGroupVersion(crd.Spec.Group + "/" + v.Name)
			if err == nil && slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool { return a.Name == crd.Spec.Names.Plural }) {
				inDiscovery++
			}
		}
	}
	return inDiscovery, all
}
