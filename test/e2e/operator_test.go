//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/test/framework"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	krand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// operator is one ECK install from testdata/fixtures with its pod played by
// a kubelet.
type operator struct {
	ns      string
	version string
	k       *kubelet
}

// newOperator installs ECK version's CRDs, the all-in-one fixture in a new
// namespace, what the all-in-one manifest has besides (the operator's
// ClusterRole and binding, the empty webhook certificate Secret), and runs
// the operator's pod.
func newOperator(t *testing.T, version string) *operator {
	t.Helper()
	return newOperatorIn(t, version, "eck-"+strings.ReplaceAll(version, ".", "-")+"-"+krand.String(5))
}

// newOperatorIn is newOperator in the namespace ns.
func newOperatorIn(t *testing.T, version, ns string) *operator {
	t.Helper()
	createNamespace(t, ns)
	cluster.InstallCRDDir(t, crdDir("eck-"+version))
	cluster.InstallFixture(t, "eck-"+version+"-all-in-one.yaml", ns)

	// The operator's own RBAC, as the all-in-one manifest has it.
	raw, err := os.ReadFile(filepath.Join(framework.RepoRoot(), "testdata", "e2e", "eck-"+version+"-operator-rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(raw, []byte("\n---\n"))
	role, binding := &rbacv1.ClusterRole{}, &rbacv1.ClusterRoleBinding{}
	if err := yaml.UnmarshalStrict(docs[0], role); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(docs[1], binding); err != nil {
		t.Fatal(err)
	}
	binding.Subjects[0].Namespace = ns
	c := cluster.Context(t)
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Create(c, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Kube.RbacV1().ClusterRoleBindings().Create(c, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The all-in-one manifest ships the webhook certificate Secret empty.
	if _, err := cluster.Kube.CoreV1().Secrets(ns).Create(c, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "elastic-webhook-server-cert"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		bg := context.Background()
		_ = cluster.Kube.AppsV1().StatefulSets(ns).Delete(bg, "elastic-operator", metav1.DeleteOptions{})
		_ = cluster.Kube.RbacV1().ClusterRoles().Delete(bg, role.Name, metav1.DeleteOptions{})
		_ = cluster.Kube.RbacV1().ClusterRoleBindings().Delete(bg, binding.Name, metav1.DeleteOptions{})
		sel := metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=kubectl-eck-metrics"}
		_ = cluster.Kube.RbacV1().ClusterRoles().DeleteCollection(bg, metav1.DeleteOptions{}, sel)
		_ = cluster.Kube.RbacV1().ClusterRoleBindings().DeleteCollection(bg, metav1.DeleteOptions{}, sel)
	})

	k := newKubelet(t, ns, "elastic-operator")
	k.images["docker.elastic.co/eck/eck-operator:"+version] = binary("eck-operator-" + version)
	k.images["quay.io/brancz/kube-rbac-proxy:v0.19.1"] = binary("kube-rbac-proxy")
	o := &operator{ns: ns, version: version, k: k}
	k.local = o.local
	k.start()
	o.waitRunning(t, "manager")
	return o
}

// local is what differs for the operator's containers on this host (no pod
// network, no kubelet, no Service the API server could call back):
//
//   - manager: flags on the command line, which override eck.yaml:
//     --enable-webhook=false: the webhook server needs a Service the API
//     server could call and a ValidatingWebhookConfiguration, which this
//     control plane cannot route to a loopback process;
//     and, when eck.yaml (the file the pod reads) turns metrics on:
//     --metrics-host=127.0.0.1 (no pod network: 0.0.0.0 would listen on the
//     host's interfaces) and --metrics-port=<loopback port of the pod's
//     metrics-port>.
//   - kube-rbac-proxy: the ports of --secure-listen-address (its address
//     becomes 127.0.0.1) and --upstream are mapped to their loopback ports.
func (o *operator) local(r *podRun, c corev1.Container, argv []string) ([]string, error) {
	switch c.Name {
	case "manager":
		conf := argValue(argv, "--config")
		if conf == "" {
			return nil, fmt.Errorf("manager has no --config")
		}
		host, ok := r.hostPath(c, conf)
		if !ok {
			return nil, fmt.Errorf("%s is on no volume of container manager", conf)
		}
		raw, err := os.ReadFile(host)
		if err != nil {
			return nil, err
		}
		var cfg struct {
			Port int32 `json:"metrics-port"`
		}
		if err := yaml.Unmarshal(raw, &cfg); err != nil {
			return nil, fmt.Errorf("eck.yaml: %w", err)
		}
		argv = append(argv, "--enable-webhook=false")
		if cfg.Port != 0 {
			argv = append(argv, "--metrics-host=127.0.0.1", "--metrics-port="+portOf(o.k.loopback(cfg.Port)))
		}
		return argv, nil
	case "kube-rbac-proxy":
		out := append([]string{}, argv...)
		for i, a := range out {
			switch {
			case strings.HasPrefix(a, "--secure-listen-address="):
				addr := strings.TrimPrefix(a, "--secure-listen-address=")
				port, err := strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", a, err)
				}
				out[i] = "--secure-listen-address=" + o.k.loopback(int32(port))
			case strings.HasPrefix(a, "--upstream="):
				u, err := url.Parse(strings.TrimPrefix(a, "--upstream="))
				if err != nil {
					return nil, err
				}
				port, err := strconv.Atoi(u.Port())
				if err != nil {
					return nil, fmt.Errorf("%s: %w", a, err)
				}
				if u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
					return nil, fmt.Errorf("%s: upstream is not in the pod", a)
				}
				u.Host = o.k.loopback(int32(port))
				out[i] = "--upstream=" + u.String()
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("container %s not expected", c.Name)
}

func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

// waitRunning waits until the container's process runs.
func (o *operator) waitRunning(t *testing.T, container string) *process {
	t.Helper()
	var p *process
	err := wait.PollUntilContextTimeout(cluster.Context(t), 200*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		p = o.k.proc(container)
		return p != nil, nil
	})
	if err != nil {
		t.Fatalf("container %s never ran\n%s", container, o.k.logs())
	}
	return p
}

// metricsAddr is the loopback address Prometheus reaches through the metrics
// Service: its Endpoints' pod IP and port, mapped by podNet.
func (o *operator) metricsAddr(t *testing.T) string {
	t.Helper()
	var addr string
	err := wait.PollUntilContextTimeout(cluster.Context(t), 200*time.Millisecond, 30*time.Second, true, func(c context.Context) (bool, error) {
		ep, err := cluster.Kube.CoreV1().Endpoints(o.ns).Get(c, "elastic-operator-metrics", metav1.GetOptions{})
		if err != nil || len(ep.Subsets) == 0 || len(ep.Subsets[0].Addresses) == 0 {
			return false, nil
		}
		for _, p := range ep.Subsets[0].Ports {
			if p.Name == "https" {
				addr = routes()[fmt.Sprintf("%s:%d", ep.Subsets[0].Addresses[0].IP, p.Port)]
			}
		}
		return addr != "", nil
	})
	if err != nil {
		t.Fatalf("no ready endpoint with port https for Service elastic-operator-metrics\n%s", o.k.logs())
	}
	return addr
}

// servedCert is the certificate the endpoint at addr serves.
func servedCert(addr string) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&netDialer, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // we read what is served
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// pluginResult is one run of the plugin binary.
type pluginResult struct {
	stdout, stderr string
	err            error
}

func (r pluginResult) String() string {
	return fmt.Sprintf("exit: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
}

// plugin runs the kubectl-eck_metrics binary with the admin kubeconfig.
func plugin(t *testing.T, args ...string) pluginResult {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, cluster.plugin, append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	cmd.Env = append(baseEnv(), "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	t.Logf("kubectl eck-metrics %s: exit %v", strings.Join(args, " "), err)
	return pluginResult{stdout: out.String(), stderr: errOut.String(), err: err}
}

func mustPlugin(t *testing.T, args ...string) pluginResult {
	t.Helper()
	r := plugin(t, args...)
	if r.err != nil {
		t.Fatalf("kubectl eck-metrics %s failed:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// report is status -o json.
type report struct {
	Checks []struct {
		ID       string `json:"id"`
		Category string `json:"category"`
		Name     string `json:"name"`
		Outcome  string `json:"outcome"`
		Message  string `json:"message"`
		Hint     string `json:"hint"`
	} `json:"checks"`
	Summary struct {
		Fail int  `json:"fail"`
		OK   bool `json:"ok"`
	} `json:"summary"`
}

func status(t *testing.T, args ...string) (*report, pluginResult) {
	t.Helper()
	r := plugin(t, append([]string{"status", "-o", "json"}, args...)...)
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r)
	}
	return &rep, r
}

// expect asserts the outcome of the check with that ID (status -o json's
// stable id) and a part of its message (and of its hint, when hintPart is
// set).
func (rep *report) expect(t *testing.T, id, outcome, messagePart, hintPart string) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			if !strings.EqualFold(c.Outcome, outcome) || !strings.Contains(c.Message, messagePart) || !strings.Contains(c.Hint, hintPart) {
				t.Errorf("status %s: %s %q (hint %q), want %s with %q (hint with %q)", id, c.Outcome, c.Message, c.Hint, outcome, messagePart, hintPart)
			}
			return
		}
	}
	t.Errorf("status has no check %s", id)
}

func (rep *report) failed() []string {
	var out []string
	for _, c := range rep.Checks {
		if strings.EqualFold(c.Outcome, "fail") {
			out = append(out, c.Category+"/"+c.Name+": "+c.Message)
		}
	}
	return out
}

// certs

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "e2e metrics CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a serving certificate for dnsNames; returns the PEM files
// and the certificate.
func (ca *testCA) issue(t *testing.T, dnsNames ...string) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: dnsNames[0]}, DNSNames: dnsNames,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), cert
}

func serial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
