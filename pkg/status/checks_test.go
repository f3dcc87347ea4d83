package status

// Each check on its own (Options.Checks), against client-go's fake
// clientset seeded with a healthy native-mode install that each case breaks
// in one way. test/integration runs the same checks against a real API
// server.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/kube"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
)

const (
	unitNS   = "elastic-system"
	unitName = "elastic-operator"
)

var unitNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// unitEnv is one fake cluster and the choices status runs with.
type unitEnv struct {
	kube *fake.Clientset
	dyn  *dynamicfake.FakeDynamicClient
	opts Options
	// allowed answers SubjectAccessReviews by resource or path; sarErr fails them.
	allowed map[string]bool
	sarErr  error
}

func unitStatefulSet() *appsv1.StatefulSet {
	labels := map[string]string{"control-plane": "elastic-operator"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: unitName, Namespace: unitNS, Labels: labels, Generation: 2},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: unitName,
					Containers: []corev1.Container{{
						Name:         operator.ManagerContainerName,
						Image:        "docker.elastic.co/eck/eck-operator:3.5.0",
						Args:         []string{"manager", "--config=/conf/eck.yaml"},
						Ports:        []corev1.ContainerPort{{Name: "https-webhook", ContainerPort: 9443}, {Name: patches.MetricsPortName, ContainerPort: 8081}},
						VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/conf"}},
					}},
					Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: unitName}}}}},
				},
			},
		},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, CurrentRevision: "r2", UpdateRevision: "r2"},
	}
}

// newUnitEnv is a healthy, enabled native-mode install.
func newUnitEnv(t *testing.T) *unitEnv {
	t.Helper()
	sts := unitStatefulSet()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: unitName, Namespace: unitNS},
		Data: map[string]string{"eck.yaml": "log-verbosity: 0\nmetrics-port: 8081\nmetrics-host: 0.0.0.0\nmetrics-secure: true\n"}}
	e := &unitEnv{kube: fake.NewClientset(sts, cm), allowed: map[string]bool{"tokenreviews": true, "subjectaccessreviews": true, "/metrics": true}}
	ctx := context.Background()
	op, err := operator.FromStatefulSet(sts)
	if err != nil {
		t.Fatal(err)
	}
	p := patches.ParamsFor(op, operator.ModeNative, 8081, patches.DefaultSidecarImg, nil)
	apply := metav1.ApplyOptions{FieldManager: patches.FieldManager}
	if _, err := e.kube.RbacV1().ClusterRoles().Apply(ctx, patches.ClusterRole(p), apply); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.RbacV1().ClusterRoleBindings().Apply(ctx, patches.ClusterRoleBinding(p), apply); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.CoreV1().Services(unitNS).Apply(ctx, patches.Service(p), apply); err != nil {
		t.Fatal(err)
	}
	e.kube.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if e.sarErr != nil {
			return true, nil, e.sarErr
		}
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		what := ""
		if r := sar.Spec.ResourceAttributes; r != nil {
			what = r.Resource
		} else if n := sar.Spec.NonResourceAttributes; n != nil {
			what = n.Path
		}
		sar.Status.Allowed = e.allowed[what]
		return true, sar, nil
	})
	e.kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{Token: "prometheus-token"}}, nil
	})
	e.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{{
		GroupVersion: patches.ServiceMonitorGVR.GroupVersion().String(),
		APIResources: []metav1.APIResource{{Name: patches.ServiceMonitorGVR.Resource, Namespaced: true, Kind: "ServiceMonitor"}, {Name: patches.PodMonitorGVR.Resource, Namespaced: true, Kind: "PodMonitor"}},
	}}
	sm, err := patches.ServiceMonitor(p, patches.ServiceMonitorTLS{})
	if err != nil {
		t.Fatal(err)
	}
	e.dyn = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{patches.ServiceMonitorGVR: "ServiceMonitorList", patches.PodMonitorGVR: "PodMonitorList", patches.CertificateGVR: "CertificateList",
			promselect.PrometheusGVR: "PrometheusList", promselect.PrometheusAgentGVR: "PrometheusAgentList", patches.PrometheusRuleGVR: "PrometheusRuleList"}, sm)
	e.opts = Options{Namespace: unitNS, Now: unitNow}
	// client-go's fake clientset cannot proxy: each selecting Prometheus
	// reports our target up unless a test says otherwise.
	e.answer(targetsBody(unitPool, "up", "", 0))
	return e
}

func (e *unitEnv) update(t *testing.T, edit func(sts *appsv1.StatefulSet)) {
	t.Helper()
	sts, err := e.kube.AppsV1().StatefulSets(unitNS).Get(context.Background(), unitName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edit(sts)
	if _, err := e.kube.AppsV1().StatefulSets(unitNS).Update(context.Background(), sts, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *unitEnv) setConfig(t *testing.T, eckYAML string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: unitName, Namespace: unitNS}, Data: map[string]string{"eck.yaml": eckYAML}}
	if _, err := e.kube.CoreV1().ConfigMaps(unitNS).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *unitEnv) deleteObject(t *testing.T, resource string) {
	t.Helper()
	ctx, o := context.Background(), metav1.DeleteOptions{}
	var err error
	switch resource {
	case "clusterrole":
		err = e.kube.RbacV1().ClusterRoles().Delete(ctx, unitName+"-metrics-auth-role", o)
	case "clusterrolebinding":
		err = e.kube.RbacV1().ClusterRoleBindings().Delete(ctx, unitName+"-metrics-auth-rolebinding", o)
	case "service":
		err = e.kube.CoreV1().Services(unitNS).Delete(ctx, patches.ServiceName(unitName), o)
	case "servicemonitor":
		err = e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS).Delete(ctx, unitName, o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// useCert mounts secret name as use-cert does and stores a certificate
// valid for validFor in it.
func (e *unitEnv) useCert(t *testing.T, name string, validFor time.Duration, store bool) {
	t.Helper()
	e.update(t, func(sts *appsv1.StatefulSet) {
		spec := &sts.Spec.Template.Spec
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: patches.CertVolumeName, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: patches.CertVolumeName, MountPath: patches.DefaultCertDir})
	})
	if !store {
		return
	}
	certPEM, keyPEM := unitCert(t, validFor, patches.ServiceDNSName(unitName, unitNS))
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: unitNS}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	if _, err := e.kube.CoreV1().Secrets(unitNS).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func unitCert(t *testing.T, validFor time.Duration, dns string) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: dns}, DNSNames: []string{dns},
		NotBefore: unitNow.Add(-time.Hour), NotAfter: unitNow.Add(validFor), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// unitEndpoint is a metrics endpoint: 401 without a token, the answer of
// withToken for Prometheus's token.
func unitEndpoint(t *testing.T, e *unitEnv, code int, body string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer prometheus-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	e.opts.Probe, e.opts.MetricsURL, e.opts.PrometheusSA = true, srv.URL+"/metrics", "monitoring/prometheus"
}

func TestEachCheck(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}, "", nil)
	tests := []struct {
		name    string
		id      CheckID
		breakIt func(t *testing.T, e *unitEnv)
		want    Outcome
		message string
	}{
		{"found", OperatorFound, nil, Pass, "StatefulSet elastic-system/elastic-operator"},
		{"absent", OperatorFound, func(t *testing.T, e *unitEnv) { e.opts.Name = "other" }, Fail, "StatefulSet elastic-system/other not found"},
		{"version", OperatorVersion, nil, Pass, "ECK 3.5.0"},
		{"no version in the image", OperatorVersion, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "eck-operator:latest" })
		}, Warn, "cannot tell the ECK version"},
		{"too old", OperatorVersion, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "eck-operator:2.10.0" })
		}, Fail, "not supported"},
		{"native in use", OperatorMode, nil, Pass, "native"},
		{"not secured", OperatorMode, func(t *testing.T, e *unitEnv) { e.setConfig(t, "metrics-port: 0\n") }, Fail, "not secured"},
		{"manifests", OperatorHelm, nil, Pass, "installed from manifests"},
		{"helm", OperatorHelm, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Labels["app.kubernetes.io/managed-by"] = "Helm"
				s.Labels["app.kubernetes.io/instance"] = "eck"
			})
		}, Warn, `Helm release "eck"`},
		{"not GitOps", OperatorGitOps, nil, Pass, "neither Argo CD nor Flux"},
		{"helm is not Argo CD", OperatorGitOps, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Labels["app.kubernetes.io/managed-by"] = "Helm"
				s.Labels["app.kubernetes.io/instance"] = "eck"
			})
		}, Pass, "neither Argo CD nor Flux"},
		{"argo cd", OperatorGitOps, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "eck:apps/StatefulSet:elastic-system/elastic-operator"}
			})
		}, Warn, `managed by Argo CD application "eck": changes outside Git are reverted on sync`},
		{"flux on the ConfigMap", OperatorGitOps, func(t *testing.T, e *unitEnv) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: unitName, Namespace: unitNS, Labels: map[string]string{
				"kustomize.toolkit.fluxcd.io/name": "eck", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
				Data: map[string]string{"eck.yaml": "metrics-port: 8081\nmetrics-secure: true\n"}}
			if _, err := e.kube.CoreV1().ConfigMaps(unitNS).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Warn, "managed by Flux Kustomization flux-system/eck: changes outside Git are reverted on sync"},

		{"not YAML", ConfigReadable, func(t *testing.T, e *unitEnv) { e.setConfig(t, "metrics-port: [\n") }, Fail, "ConfigMap elastic-system/elastic-operator"},
		{"settings skipped when unreadable", ConfigSettings, func(t *testing.T, e *unitEnv) { e.setConfig(t, "metrics-port: [\n") }, Skip, "eck.yaml unreadable"},
		{"port", ConfigPort, nil, Pass, "8081"},
		{"port 0", ConfigPort, func(t *testing.T, e *unitEnv) { e.setConfig(t, "metrics-port: 0\nmetrics-secure: true\n") }, Fail, "random port"},
		{"host", ConfigHost, nil, Pass, "0.0.0.0"},
		{"host loopback in native mode", ConfigHost, func(t *testing.T, e *unitEnv) {
			e.setConfig(t, "metrics-port: 8081\nmetrics-host: 127.0.0.1\nmetrics-secure: true\n")
		}, Fail, "the Service cannot reach the endpoint"},
		{"secure", ConfigSecure, nil, Pass, `"true" as native mode needs`},
		{"secure in sidecar mode", ConfigSecure, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.Containers = append(s.Spec.Template.Spec.Containers, corev1.Container{Name: patches.SidecarName, Image: patches.DefaultSidecarImg})
			})
		}, Fail, "true in sidecar mode"},
		{"no overrides", ConfigCommandLine, nil, Pass, "eck.yaml decides"},
		{"override", ConfigCommandLine, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.Containers[0].Args = append(s.Spec.Template.Spec.Containers[0].Args, "--metrics-port=9090")
			})
		}, Fail, "--metrics-port=9090"},
		{"no collision", ConfigPortCollision, nil, Pass, "none"},
		{"webhook port", ConfigPortCollision, func(t *testing.T, e *unitEnv) {
			e.setConfig(t, "metrics-port: 9443\nmetrics-host: 0.0.0.0\nmetrics-secure: true\n")
		}, Fail, "collides with container port \"https-webhook\""},

		{"role", RBACRole, nil, Pass, "ClusterRole elastic-operator-metrics-auth-role"},
		{"role deleted", RBACRole, func(t *testing.T, e *unitEnv) { e.deleteObject(t, "clusterrole") }, Fail, "not found"},
		{"binding", RBACBinding, nil, Pass, "-> ServiceAccount elastic-system/elastic-operator"},
		{"binding deleted", RBACBinding, func(t *testing.T, e *unitEnv) { e.deleteObject(t, "clusterrolebinding") }, Fail, "not found"},
		{"tokenreviews", RBACTokenReviews, nil, Pass, "allowed"},
		{"tokenreviews denied", RBACTokenReviews, func(t *testing.T, e *unitEnv) { e.allowed["tokenreviews"] = false }, Fail, "every scrape gets 500"},
		{"cannot ask", RBACTokenReviews, func(t *testing.T, e *unitEnv) { e.sarErr = forbidden }, Warn, "cannot ask the API server"},
		{"subjectaccessreviews", RBACSubjectAccessReviews, nil, Pass, "allowed"},
		{"subjectaccessreviews denied", RBACSubjectAccessReviews, func(t *testing.T, e *unitEnv) { e.allowed["subjectaccessreviews"] = false }, Fail, "may not create subjectaccessreviews"},

		{"service", ServiceExists, nil, Pass, "Service elastic-system/elastic-operator-metrics"},
		{"service deleted", ServiceExists, func(t *testing.T, e *unitEnv) { e.deleteObject(t, "service") }, Fail, "not found"},
		{"selector", ServiceSelector, nil, Pass, "control-plane=elastic-operator"},
		{"selector of other pods", ServiceSelector, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) { s.Spec.Template.Labels = map[string]string{"app": "x"} })
		}, Fail, "does not match the pod labels"},
		{"target port", ServiceTargetPort, nil, Pass, "8080 -> metrics on container manager"},
		{"target port gone", ServiceTargetPort, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.Containers[0].Ports = s.Spec.Template.Spec.Containers[0].Ports[:1]
			})
		}, Fail, "targetPort metrics is not a port of container manager"},

		{"patched", StatefulSetPatched, nil, Pass, "container manager port metrics 8081"},
		{"port differs", StatefulSetPatched, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Ports[1].ContainerPort = 9090 })
		}, Fail, "port metrics is 9090, eck.yaml metrics-port is 8081"},
		{"native: no sidecar", StatefulSetSidecarImage, nil, Pass, "none: native mode has no sidecar"},
		{"sidecar image", StatefulSetSidecarImage, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.Containers = append(s.Spec.Template.Spec.Containers, corev1.Container{Name: patches.SidecarName, Image: patches.DefaultSidecarImg})
			})
		}, Pass, patches.DefaultSidecarImg},
		{"retired sidecar image", StatefulSetSidecarImage, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.Containers = append(s.Spec.Template.Spec.Containers, corev1.Container{Name: patches.SidecarName, Image: "gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0"})
			})
		}, Fail, "gcr.io/kubebuilder/kube-rbac-proxy:v0.15.0 is retired"},
		{"self-signed: no mount", StatefulSetCertMount, nil, Pass, "self-signed default"},
		{"mounted", StatefulSetCertMount, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 365*24*time.Hour, true) }, Pass, "secret tls at /tmp/k8s-metrics-server/serving-certs"},
		{"mounted elsewhere", StatefulSetCertMount, func(t *testing.T, e *unitEnv) {
			e.useCert(t, "tls", 365*24*time.Hour, true)
			e.setConfig(t, "metrics-port: 8081\nmetrics-host: 0.0.0.0\nmetrics-secure: true\nmetrics-cert-dir: /certs\n")
		}, Fail, "is not mounted at /certs"},
		{"rolled out", StatefulSetRollout, nil, Pass, "rolled out"},
		{"rolling", StatefulSetRollout, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](2) })
		}, Warn, "1 of 2 pods updated"},
		{"no pod ready", StatefulSetRollout, func(t *testing.T, e *unitEnv) {
			e.update(t, func(s *appsv1.StatefulSet) { s.Status.ReadyReplicas = 0 })
		}, Fail, "no operator pod is ready"},

		{"self-signed", CertificateServing, nil, Pass, "self-signed default"},
		{"valid", CertificateServing, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 365*24*time.Hour, true) }, Pass, "secret elastic-system/tls"},
		{"expires soon", CertificateServing, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 10*24*time.Hour, true) }, Warn, "expires in"},
		{"secret missing", CertificateServing, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 0, false) }, Fail, "the operator pod cannot start"},

		{"self-signed: no Certificate", CertificateIssuer, nil, Pass, "none: the self-signed default is served"},
		{"a secret of the user's", CertificateIssuer, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 365*24*time.Hour, true) }, Pass, "none: secret tls is not issued by cert-manager"},
		{"Ready", CertificateIssuer, func(t *testing.T, e *unitEnv) { e.issuedByCertManager(t, "True", true) },
			Pass, "Certificate elastic-system/elastic-operator-metrics Ready, notAfter 2026-08-30T00:00:00Z, renewal at 2026-07-31T00:00:00Z, from Issuer elastic-system/ca-issuer"},
		{"not Ready", CertificateIssuer, func(t *testing.T, e *unitEnv) { e.issuedByCertManager(t, "False", true) },
			Warn, "is not Ready (Ready=False (Failed): The certificate request has failed to complete and will be retried"},
		{"Certificate deleted", CertificateIssuer, func(t *testing.T, e *unitEnv) { e.issuedByCertManager(t, "True", false) }, Warn, "no longer exists: nothing renews the certificate"},
		{"cert-manager uninstalled", CertificateIssuer, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = e.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources[:1]
		}, Warn, "cert-manager.io/v1 is not served any more"},

		{"self-signed: no CA copy", CertificateCACopy, nil, Pass, "none: the self-signed default is served"},
		{"insecureSkipVerify", CertificateCACopy, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 365*24*time.Hour, true) }, Pass, "none: the ServiceMonitor verifies with no CA secret of ours"},
		{"no Prometheus namespace", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.copyCA(t, e.secret(t, unitNS, "tls").Data[corev1.TLSCertKey])
			e.opts.PrometheusNamespace = ""
		}, Skip, "pass --prometheus-namespace"},
		{"copy verifies", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.copyCA(t, e.secret(t, unitNS, "tls").Data[corev1.TLSCertKey])
		}, Pass, "CA secret monitoring/eck-metrics-ca verifies the certificate of secret tls"},
		{"copy from --prometheus-sa's namespace", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.copyCA(t, e.secret(t, unitNS, "tls").Data[corev1.TLSCertKey])
			e.opts.PrometheusNamespace, e.opts.PrometheusSA = "", "monitoring/prometheus"
		}, Pass, "CA secret monitoring/eck-metrics-ca verifies"},
		{"stale copy", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			other, _ := unitCert(t, 365*24*time.Hour, "another CA")
			e.copyCA(t, other)
		}, Warn, "CA secret monitoring/eck-metrics-ca no longer verifies the certificate of secret tls"},
		{"copy missing", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.copyCA(t, nil)
		}, Fail, "CA secret monitoring/eck-metrics-ca not found: Prometheus cannot verify the endpoint"},

		{"servicemonitor", ServiceMonitorExists, nil, Pass, "ServiceMonitor elastic-system/elastic-operator"},
		{"servicemonitor deleted", ServiceMonitorExists, func(t *testing.T, e *unitEnv) { e.deleteObject(t, "servicemonitor") }, Fail, "not found"},
		{"API not served", ServiceMonitorExists, func(t *testing.T, e *unitEnv) {
			e.kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = nil
		}, Skip, "not served"},
		{"discovery forbidden", ServiceMonitorExists, func(t *testing.T, e *unitEnv) {
			e.kube.PrependReactor("get", "resource", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, forbidden })
		}, Warn, "cannot read API group monitoring.coreos.com/v1"},
		{"selects", ServiceMonitorSelects, nil, Pass, "Service elastic-operator-metrics, port https"},
		{"selects nothing", ServiceMonitorSelects, func(t *testing.T, e *unitEnv) {
			svc, err := e.kube.CoreV1().Services(unitNS).Get(context.Background(), patches.ServiceName(unitName), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			svc.Labels = map[string]string{"app": "x"}
			if _, err := e.kube.CoreV1().Services(unitNS).Update(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Fail, "does not select Service elastic-operator-metrics"},
		{"tls", ServiceMonitorTLS, nil, Pass, "insecureSkipVerify: true, as the self-signed certificate needs"},
		{"skips verification of a real certificate", ServiceMonitorTLS, func(t *testing.T, e *unitEnv) { e.useCert(t, "tls", 365*24*time.Hour, true) }, Warn, "although the endpoint serves your certificate"},
		{"verifies a self-signed certificate", ServiceMonitorTLS, func(t *testing.T, e *unitEnv) {
			sm, err := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS).Get(context.Background(), unitName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			endpoints[0].(map[string]any)["tlsConfig"] = map[string]any{"insecureSkipVerify": false}
			sm.Object["spec"].(map[string]any)["endpoints"] = endpoints
			if _, err := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS).Update(context.Background(), sm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Fail, "every scrape fails"},

		{"podmonitor", ServiceMonitorExists, func(t *testing.T, e *unitEnv) { e.secretAuth(t, patches.MonitorPodMonitor, "", true) }, Pass, "PodMonitor elastic-system/elastic-operator"},
		{"podmonitor selects the pods", ServiceMonitorSelects, func(t *testing.T, e *unitEnv) { e.secretAuth(t, patches.MonitorPodMonitor, "", true) },
			Pass, "pods of StatefulSet elastic-operator (control-plane=elastic-operator), port metrics"},
		{"podmonitor of other pods", ServiceMonitorSelects, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorPodMonitor, "", true)
			e.update(t, func(s *appsv1.StatefulSet) { s.Spec.Template.Labels = map[string]string{"app": "x"} })
		}, Fail, "does not select the pods of StatefulSet elastic-operator"},
		{"podmonitor without the metrics port", ServiceMonitorSelects, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorPodMonitor, "", true)
			e.update(t, func(s *appsv1.StatefulSet) {
				s.Spec.Template.Spec.Containers[0].Ports = s.Spec.Template.Spec.Containers[0].Ports[:1]
			})
		}, Fail, `endpoint port "metrics" is not the operator pod's container port metrics`},
		{"tlsConfig.ca secret", ServiceMonitorTLS, func(t *testing.T, e *unitEnv) {
			e.useCert(t, "tls", 365*24*time.Hour, true)
			e.secretAuth(t, patches.MonitorPodMonitor, "eck-metrics-ca", true)
		}, Pass, "verifies with secret elastic-system/eck-metrics-ca (tlsConfig.ca), serverName elastic-operator-metrics.elastic-system.svc"},

		{"file auth", ServiceMonitorCredentials, nil, Pass, "file auth: Prometheus's own ServiceAccount token"},
		{"secret auth", ServiceMonitorCredentials, func(t *testing.T, e *unitEnv) { e.secretAuth(t, patches.MonitorServiceMonitor, "", true) },
			Pass, "secret auth: Secret elastic-system/elastic-operator-metrics-reader-token holds a token of ServiceAccount elastic-system/elastic-operator-metrics-reader, allowed to get /metrics"},
		{"no token yet", ServiceMonitorCredentials, func(t *testing.T, e *unitEnv) { e.secretAuth(t, patches.MonitorPodMonitor, "", false) },
			Fail, "holds no token yet: the token controller of kube-controller-manager fills it in"},
		{"token Secret missing", ServiceMonitorCredentials, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorServiceMonitor, "", true)
			if err := e.kube.CoreV1().Secrets(unitNS).Delete(context.Background(), patches.ReaderTokenSecretName(unitName), metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Fail, "Secret elastic-system/elastic-operator-metrics-reader-token not found: prometheus-operator drops the endpoint"},
		{"not a token Secret", ServiceMonitorCredentials, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorServiceMonitor, "", true)
			s := e.secret(t, unitNS, patches.ReaderTokenSecretName(unitName))
			if err := e.kube.CoreV1().Secrets(unitNS).Delete(context.Background(), s.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			s.ResourceVersion, s.Type = "", corev1.SecretTypeOpaque
			if _, err := e.kube.CoreV1().Secrets(unitNS).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Fail, `has type "Opaque", want kubernetes.io/service-account-token`},
		{"reader may not get /metrics", ServiceMonitorCredentials, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorServiceMonitor, "", true)
			e.allowed["/metrics"] = false
		}, Fail, "which may not get /metrics: every scrape gets 403"},
		{"no token at all", ServiceMonitorCredentials, func(t *testing.T, e *unitEnv) {
			sm, err := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS).Get(context.Background(), unitName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			delete(endpoints[0].(map[string]any), "bearerTokenFile")
			sm.Object["spec"].(map[string]any)["endpoints"] = endpoints
			if _, err := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS).Update(context.Background(), sm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Fail, "ServiceMonitor sends no token: every scrape gets 401"},

		{"CA secret next to a secret-auth monitor", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.useCert(t, "tls", 365*24*time.Hour, true)
			e.secretAuth(t, patches.MonitorServiceMonitor, "eck-metrics-ca", true)
			ca := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "eck-metrics-ca", Namespace: unitNS}, Data: map[string][]byte{patches.CAKey: e.secret(t, unitNS, "tls").Data[corev1.TLSCertKey]}}
			if _, err := e.kube.CoreV1().Secrets(unitNS).Create(context.Background(), ca, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, Pass, "CA secret elastic-system/eck-metrics-ca verifies the certificate of secret tls"},
		{"CA secret of a secret-auth monitor missing", CertificateCACopy, func(t *testing.T, e *unitEnv) {
			e.useCert(t, "tls", 365*24*time.Hour, true)
			e.secretAuth(t, patches.MonitorServiceMonitor, "eck-metrics-ca", true)
		}, Fail, "CA secret elastic-system/eck-metrics-ca not found"},

		{"no --prometheus-sa", PrometheusMetrics, nil, Skip, "pass --prometheus-sa"},
		{"the reader of secret auth", PrometheusMetrics, func(t *testing.T, e *unitEnv) { e.secretAuth(t, patches.MonitorPodMonitor, "", true) },
			Pass, "allowed for ServiceAccount elastic-system/elastic-operator-metrics-reader (the monitor's credentials)"},
		{"the reader of secret auth denied", PrometheusMetrics, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorPodMonitor, "", true)
			e.allowed["/metrics"] = false
		}, Fail, "ServiceAccount elastic-system/elastic-operator-metrics-reader (the monitor's credentials) may not get /metrics"},
		{"selected", SelectionSelected, func(t *testing.T, e *unitEnv) { e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll) },
			Pass, "Prometheus monitoring/k8s selects ServiceMonitor elastic-system/elastic-operator"},
		{"selected by an agent", SelectionSelected, func(t *testing.T, e *unitEnv) { e.prometheus(t, "PrometheusAgent", "monitoring", "agent", selectAll) },
			Pass, "PrometheusAgent monitoring/agent selects ServiceMonitor elastic-system/elastic-operator"},
		{"PodMonitor selected", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.podMonitorInstead(t)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"podMonitorSelector": map[string]any{}, "podMonitorNamespaceSelector": map[string]any{}})
		}, Pass, "Prometheus monitoring/k8s selects PodMonitor elastic-system/elastic-operator"},
		{"Prometheus API not served", SelectionSelected, nil, Skip, "Prometheus is not served"},
		{"no Prometheus", SelectionSelected, func(t *testing.T, e *unitEnv) { e.servePrometheusAPI(t) }, Warn, "no Prometheus or PrometheusAgent in any namespace"},
		{"no monitor of either kind", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
			e.deleteObject(t, "servicemonitor")
		}, Skip, "skipped: no ServiceMonitor or PodMonitor elastic-system/elastic-operator to be selected"},
		{"listing forbidden", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
			e.dyn.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "monitoring.coreos.com", Resource: "prometheuses"}, "", nil)
			})
		}, Warn, "cannot list prometheuses.monitoring.coreos.com in all namespaces"},
		{"label selector misses", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{"matchLabels": map[string]any{"release": "prometheus"}}, "serviceMonitorNamespaceSelector": map[string]any{}})
		}, Fail, "spec.serviceMonitorSelector release=prometheus of Prometheus monitoring/k8s does not match the labels of ServiceMonitor elastic-system/elastic-operator"},
		{"no selector", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorNamespaceSelector": map[string]any{}})
		}, Fail, "Prometheus monitoring/k8s has no spec.serviceMonitorSelector: it selects no ServiceMonitor"},
		{"own namespace only", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{}})
		}, Fail, "it selects ServiceMonitors of its own namespace monitoring only"},
		{"namespace selector misses", SelectionSelected, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"serviceMonitorSelector": map[string]any{}, "serviceMonitorNamespaceSelector": map[string]any{"matchLabels": map[string]any{"monitoring": "on"}}})
		}, Fail, "spec.serviceMonitorNamespaceSelector monitoring=on of Prometheus monitoring/k8s does not match namespace elastic-system (kubernetes.io/metadata.name=elastic-system)"},

		{"rule loaded with the monitor", SelectionRules, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(withSpec(selectAll, "ruleSelector", map[string]any{}), "ruleNamespaceSelector", map[string]any{}))
			e.alertRule(t, nil)
		}, Pass, "Prometheus monitoring/k8s selects PrometheusRule elastic-system/elastic-operator with ServiceMonitor elastic-system/elastic-operator"},
		{"rule labels miss the ruleSelector", SelectionRules, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(withSpec(selectAll, "ruleSelector", map[string]any{"matchLabels": map[string]any{"release": "prometheus"}}), "ruleNamespaceSelector", map[string]any{}))
			e.alertRule(t, nil)
		}, Fail, "no Prometheus that selects ServiceMonitor elastic-system/elastic-operator loads PrometheusRule elastic-system/elastic-operator, so its alerts never fire: spec.ruleSelector release=prometheus"},
		{"no ruleSelector", SelectionRules, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
			e.alertRule(t, nil)
		}, Fail, "Prometheus monitoring/k8s has no spec.ruleSelector: it selects no PrometheusRule"},
		{"an agent evaluates no rules", SelectionRules, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "PrometheusAgent", "monitoring", "agent", withSpec(selectAll, "ruleSelector", map[string]any{}))
			e.alertRule(t, nil)
		}, Fail, "PrometheusAgent monitoring/agent evaluates no rules"},
		{"no rule (no --alerts)", SelectionRules, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
			e.servePrometheusRules(t)
		}, Skip, "skipped: no PrometheusRule elastic-system/elastic-operator (enable --alerts applies one)"},
		{"PrometheusRule not served", SelectionRules, func(t *testing.T, e *unitEnv) { e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll) },
			Skip, "PrometheusRule is not served"},
		{"files allowed", SelectionFileAccess, func(t *testing.T, e *unitEnv) { e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll) },
			Pass, "allowed: ServiceMonitor elastic-system/elastic-operator reads files (endpoints[0].bearerTokenFile)"},
		{"deny mode", SelectionFileAccess, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "arbitraryFSAccessThroughSMs", map[string]any{"deny": true}))
		}, Fail, "Prometheus monitoring/k8s has arbitraryFSAccessThroughSMs.deny: true and drops ServiceMonitor elastic-system/elastic-operator, which reads files (endpoints[0].bearerTokenFile)"},
		{"deny mode, PodMonitor", SelectionFileAccess, func(t *testing.T, e *unitEnv) {
			e.podMonitorInstead(t)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", map[string]any{"podMonitorSelector": map[string]any{}, "podMonitorNamespaceSelector": map[string]any{}, "arbitraryFSAccessThroughSMs": map[string]any{"deny": true}})
		}, Pass, "none: a PodMonitor reads no files"},
		{"not selected: file access not judged", SelectionFileAccess, func(t *testing.T, e *unitEnv) { e.servePrometheusAPI(t) }, Skip, "no Prometheus selects"},

		{"no CA file", SelectionSecrets, func(t *testing.T, e *unitEnv) { e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll) }, Pass, "none needed"},
		{"CA secret mounted", SelectionSecrets, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.copyCA(t, e.secret(t, unitNS, "tls").Data[corev1.TLSCertKey])
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "secrets", []any{"eck-metrics-ca"}))
		}, Pass, "Prometheus monitoring/k8s has eck-metrics-ca in spec.secrets"},
		{"CA secret not in spec.secrets", SelectionSecrets, func(t *testing.T, e *unitEnv) {
			e.issuedByCertManager(t, "True", true)
			e.copyCA(t, e.secret(t, unitNS, "tls").Data[corev1.TLSCertKey])
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "secrets", []any{"other"}))
		}, Fail, "spec.secrets of Prometheus monitoring/k8s lacks eck-metrics-ca: its pods have no /etc/prometheus/secrets/eck-metrics-ca/ca.crt"},

		{"ServiceAccount may get /metrics", SelectionServiceAccount, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
		}, Pass, "may get /metrics: ServiceAccount monitoring/prometheus-k8s of Prometheus monitoring/k8s"},
		{"default ServiceAccount denied", SelectionServiceAccount, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
			e.allowed["/metrics"] = false
		}, Fail, "ServiceAccount monitoring/default of Prometheus monitoring/k8s may not get /metrics"},

		{"found, not typed", PrometheusMetrics, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
		}, Pass, "allowed for ServiceAccount monitoring/prometheus-k8s (of Prometheus monitoring/k8s, which selects our monitor)"},
		{"found and denied", PrometheusMetrics, func(t *testing.T, e *unitEnv) {
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
			e.allowed["/metrics"] = false
		}, Fail, "ServiceAccount monitoring/prometheus-k8s (of Prometheus monitoring/k8s, which selects our monitor) may not get /metrics: every scrape gets 403"},
		{"may get /metrics", PrometheusMetrics, func(t *testing.T, e *unitEnv) { e.opts.PrometheusSA = "monitoring/prometheus" }, Pass, "allowed for ServiceAccount monitoring/prometheus"},
		{"may not get /metrics", PrometheusMetrics, func(t *testing.T, e *unitEnv) {
			e.opts.PrometheusSA, e.allowed["/metrics"] = "monitoring/prometheus", false
		}, Fail, "every scrape gets 403"},
		{"cannot ask for Prometheus", PrometheusMetrics, func(t *testing.T, e *unitEnv) {
			e.opts.PrometheusSA, e.sarErr = "monitoring/prometheus", forbidden
		}, Warn, "cannot ask the API server"},

		{"no NetworkPolicy", NetworkPolicyMetricsPort, nil, Pass, "no NetworkPolicy isolates the operator pod"},
		{"egress-only NetworkPolicy", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, "metadata: {name: egress}\nspec: {podSelector: {}, policyTypes: [Egress]}\n")
		}, Pass, "no NetworkPolicy isolates the operator pod"},
		{"deny-all", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, unitDenyAll)
			e.namespace(t, "monitoring", nil)
			e.opts.PrometheusNamespace = "monitoring"
		}, Fail, "NetworkPolicy default-deny-ingress isolates the operator pod and no rule admits port metrics (8081/TCP) from namespace monitoring: every scrape times out"},
		{"deny-all, no Prometheus named", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) { e.networkPolicy(t, unitDenyAll) },
			Fail, "no rule admits port metrics (8081/TCP) from any namespace: every scrape times out (no Prometheus named: pass --prometheus-namespace"},
		{"admitted from --prometheus-sa's namespace", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, unitDenyAll)
			e.networkPolicy(t, "metadata: {name: allow-monitoring}\nspec:\n  podSelector: {matchLabels: {control-plane: elastic-operator}}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: observability}}}]\n    ports: [{port: metrics}]\n")
			e.namespace(t, "monitoring", map[string]string{"team": "observability"})
			e.opts.PrometheusSA = "monitoring/prometheus"
		}, Pass, "NetworkPolicy allow-monitoring admits port metrics (8081/TCP) from namespace monitoring (from namespaces team=observability)"},
		{"namespace labels unknown", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, "metadata: {name: allow-monitoring}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {team: observability}}}]\n")
			e.opts.PrometheusNamespace = "monitoring"
		}, Fail, "Namespace monitoring not found: matched by its name (kubernetes.io/metadata.name) only"},
		{"only a rule for some namespace, no Prometheus named", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, "metadata: {name: allow-monitoring}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]\n")
		}, Warn, "port metrics (8081/TCP) from any namespace only if it fits: NetworkPolicy allow-monitoring admits it from namespaces kubernetes.io/metadata.name=monitoring"},
		{"a rule for Prometheus's pods, their labels unknown", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, "metadata: {name: allow-prometheus}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}}]\n")
			e.opts.PrometheusNamespace = "monitoring"
		}, Warn, "NetworkPolicy allow-prometheus isolates the operator pod; port metrics (8081/TCP) from namespace monitoring only if it fits: NetworkPolicy allow-prometheus admits it from every namespace, pods app.kubernetes.io/name=prometheus"},
		{"only ours isolates", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, "metadata: {name: elastic-operator-metrics, labels: {app.kubernetes.io/managed-by: kubectl-eck-metrics}}\nspec:\n  podSelector: {matchLabels: {control-plane: elastic-operator}}\n  ingress:\n  - ports: [{port: metrics}]\n")
		}, Warn, "only NetworkPolicy elastic-operator-metrics, applied by enable --network-policy, isolates the operator pod: it denies the webhook"},
		{"admitted for the selecting Prometheus's pods", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, unitDenyAll)
			e.networkPolicy(t, "metadata: {name: allow-prometheus}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {prometheus: k8s}}}]\n")
			e.namespace(t, "monitoring", nil)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
		}, Pass, "NetworkPolicy allow-prometheus admits port metrics (8081/TCP) from Prometheus monitoring/k8s"},
		{"denied for the selecting Prometheus", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.networkPolicy(t, unitDenyAll)
			e.networkPolicy(t, "metadata: {name: allow-other}\nspec:\n  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {prometheus: other}}}]\n")
			e.namespace(t, "monitoring", nil)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
		}, Fail, "no rule admits port metrics (8081/TCP) from Prometheus monitoring/k8s"},
		{"secret auth: the reader, not the selecting Prometheus's account", PrometheusMetrics, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorServiceMonitor, "", true)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", withSpec(selectAll, "serviceAccountName", "prometheus-k8s"))
		}, Pass, "allowed for ServiceAccount elastic-system/elastic-operator-metrics-reader (the monitor's credentials)"},
		{"secret auth: Prometheus's own account not needed", SelectionServiceAccount, func(t *testing.T, e *unitEnv) {
			e.secretAuth(t, patches.MonitorServiceMonitor, "", true)
			e.prometheus(t, "Prometheus", "monitoring", "k8s", selectAll)
			e.allowed["/metrics"] = false
		}, Skip, "the monitor sends its reader's token"},
		{"NetworkPolicies unreadable", NetworkPolicyMetricsPort, func(t *testing.T, e *unitEnv) {
			e.kube.PrependReactor("list", "networkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}, "", nil)
			})
		}, Warn, "cannot list the NetworkPolicies of namespace elastic-system"},

		{"no --probe", EndpointReachable, nil, Skip, "pass --probe"},
		{"reachable", EndpointReachable, func(t *testing.T, e *unitEnv) { unitEndpoint(t, e, 200, "# TYPE x counter\nx 1\n") }, Pass, "https://127.0.0.1"},
		{"unreachable", EndpointReachable, func(t *testing.T, e *unitEnv) {
			e.opts.Probe, e.opts.MetricsURL = true, "https://127.0.0.1:1/metrics"
		}, Fail, "cannot reach"},
		{"anonymous allowed", EndpointAnonymous, func(t *testing.T, e *unitEnv) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("# TYPE x counter\n")) }))
			t.Cleanup(srv.Close)
			e.opts.Probe, e.opts.MetricsURL = true, srv.URL+"/metrics"
		}, Fail, "200 OK: the endpoint serves metrics to anyone"},
		{"anonymous refused", EndpointAnonymous, func(t *testing.T, e *unitEnv) { unitEndpoint(t, e, 200, "# TYPE x counter\n") }, Pass, "401"},
		{"token accepted", EndpointToken, func(t *testing.T, e *unitEnv) { unitEndpoint(t, e, 200, "# TYPE x counter\nx 1\n") }, Pass, "1 metric families"},
		{"token forbidden", EndpointToken, func(t *testing.T, e *unitEnv) { unitEndpoint(t, e, 403, "Forbidden") }, Fail, "403"},
		{"tokenreviews fail", EndpointToken, func(t *testing.T, e *unitEnv) { unitEndpoint(t, e, 500, "Internal Server Error") }, Fail, "the operator cannot review tokens"},
		{"self-signed served", EndpointCertificate, func(t *testing.T, e *unitEnv) { unitEndpoint(t, e, 200, "") }, Pass, "valid until"},
		{"plain HTTP", EndpointCertificate, func(t *testing.T, e *unitEnv) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
			t.Cleanup(srv.Close)
			e.opts.Probe, e.opts.MetricsURL = true, srv.URL+"/metrics"
		}, Fail, "does not serve TLS"},
		{"not the secret's certificate", EndpointCertMatch, func(t *testing.T, e *unitEnv) {
			unitEndpoint(t, e, 200, "")
			e.useCert(t, "tls", 365*24*time.Hour, true)
		}, Warn, "is not the one of secret tls"},
		{"localhost fallback", EndpointCertMatch, func(t *testing.T, e *unitEnv) {
			e.useCert(t, "tls", 365*24*time.Hour, true)
			// What controller-runtime's metrics server generates.
			certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKeyWithFixtures("localhost", []net.IP{{127, 0, 0, 1}}, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			unitEndpointServing(t, e, certPEM, keyPEM)
		}, Warn, "its generated certificate for localhost"},
		{"the secret's certificate", EndpointCertMatch, func(t *testing.T, e *unitEnv) {
			e.useCert(t, "tls", 365*24*time.Hour, true)
			s := e.secret(t, unitNS, "tls")
			unitEndpointServing(t, e, s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
		}, Pass, "the certificate of secret tls"},
		{"secret unreadable", EndpointCertMatch, func(t *testing.T, e *unitEnv) {
			unitEndpoint(t, e, 200, "")
			e.useCert(t, "tls", 365*24*time.Hour, false)
		}, Warn, "cannot read secret tls to compare"},
	}
	tests = append(tests, targetsCases()...)
	seen := map[CheckID]map[Outcome]bool{}
	for _, tc := range tests {
		t.Run(string(tc.id)+"/"+tc.name, func(t *testing.T) {
			e := newUnitEnv(t)
			if tc.breakIt != nil {
				tc.breakIt(t, e)
			}
			e.opts.Checks = []CheckID{tc.id}
			r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
			if len(r.Checks) != 1 {
				t.Fatalf("--check %s reported %d checks: %+v", tc.id, len(r.Checks), r.Checks)
			}
			c := r.Checks[0]
			if c.ID != tc.id || c.Outcome != tc.want || !strings.Contains(c.Message, tc.message) {
				t.Errorf("%s: %s %q, want %s with %q", c.ID, c.Outcome, c.Message, tc.want, tc.message)
			}
			if c.Outcome == Fail && c.Hint == "" && tc.id != EndpointToken {
				t.Errorf("%s failed without a hint", c.ID)
			}
			if r.Summary.OK != (c.Outcome != Fail) {
				t.Errorf("summary %+v for a %s", r.Summary, c.Outcome)
			}
		})
		if seen[tc.id] == nil {
			seen[tc.id] = map[Outcome]bool{}
		}
		seen[tc.id][tc.want] = true
	}
	// Every declared check is tested here, passing and failing, except the
	// two that only report a problem with eck.yaml.
	for _, id := range CheckIDs() {
		switch {
		case id == ConfigSettings || id == ConfigReadable:
			if !seen[id][Skip] && !seen[id][Fail] {
				t.Errorf("no test of %s", id)
			}
		case !seen[id][Pass] || !seen[id][Fail] && !seen[id][Warn]:
			t.Errorf("check %s lacks a passing or a failing case here", id)
		}
	}
}

func (e *unitEnv) secret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s, err := e.kube.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// issuedByCertManager serves secret tls as cert-manager issues it (its
// annotations name Certificate elastic-operator-metrics of Issuer
// ca-issuer); withCertificate stores that Certificate with a Ready
// condition of status ready, as cert-manager reports it.
func (e *unitEnv) issuedByCertManager(t *testing.T, ready string, withCertificate bool) {
	t.Helper()
	e.useCert(t, "tls", 90*24*time.Hour, true)
	s := e.secret(t, unitNS, "tls")
	s.Annotations = map[string]string{
		patches.CertManagerCertificateNameAnnotation: patches.CertificateName(unitName),
		patches.CertManagerIssuerNameAnnotation:      "ca-issuer",
		patches.CertManagerIssuerKindAnnotation:      patches.IssuerKind,
	}
	if _, err := e.kube.CoreV1().Secrets(unitNS).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fd := e.kube.Discovery().(*fakediscovery.FakeDiscovery)
	fd.Resources = append(fd.Resources, &metav1.APIResourceList{
		GroupVersion: patches.CertificateGVR.GroupVersion().String(),
		APIResources: []metav1.APIResource{{Name: patches.CertificateGVR.Resource, Namespaced: true, Kind: "Certificate"}},
	})
	if !withCertificate {
		return
	}
	cert := patches.Certificate(patches.CertificateParams{Namespace: unitNS, Name: unitName, Issuer: "ca-issuer", IssuerKind: patches.IssuerKind})
	condition := map[string]any{"type": "Ready", "status": ready, "reason": "Ready", "message": "Certificate is up to date and has not expired"}
	if ready != "True" {
		condition["reason"], condition["message"] = "Failed", "The certificate request has failed to complete and will be retried"
	}
	cert.Object["status"] = map[string]any{
		"conditions":  []any{condition},
		"notAfter":    unitNow.Add(90 * 24 * time.Hour).Format(time.RFC3339),
		"renewalTime": unitNow.Add(60 * 24 * time.Hour).Format(time.RFC3339),
	}
	if _, err := e.dyn.Resource(patches.CertificateGVR).Namespace(unitNS).Create(context.Background(), cert, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// copyCA makes the ServiceMonitor verify with CA secret eck-metrics-ca in
// namespace monitoring, as use-cert --ca-secret does, holding caPEM (nil:
// the secret is absent).
func (e *unitEnv) copyCA(t *testing.T, caPEM []byte) {
	t.Helper()
	ctx := context.Background()
	res := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS)
	sm, err := res.Get(ctx, unitName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	endpoints[0].(map[string]any)["tlsConfig"] = map[string]any{"insecureSkipVerify": false, "caFile": patches.DefaultCAMountDir + "/eck-metrics-ca/ca.crt", "serverName": patches.ServiceDNSName(unitName, unitNS)}
	sm.Object["spec"].(map[string]any)["endpoints"] = endpoints
	if _, err := res.Update(ctx, sm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.opts.PrometheusNamespace = "monitoring"
	if caPEM == nil {
		return
	}
	ca := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "eck-metrics-ca", Namespace: "monitoring"}, Data: map[string][]byte{patches.CAKey: caPEM}}
	if _, err := e.kube.CoreV1().Secrets("monitoring").Create(ctx, ca, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// unitEndpointServing is unitEndpoint serving this certificate.
func unitEndpointServing(t *testing.T, e *unitEnv, certPEM, keyPEM []byte) {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.opts.Probe, e.opts.MetricsURL = true, srv.URL+"/metrics"
}

// The hint of a stale CA copy is the command that refreshes it.
func TestStaleCACopyHint(t *testing.T) {
	e := newUnitEnv(t)
	e.issuedByCertManager(t, "True", true)
	other, _ := unitCert(t, 365*24*time.Hour, "another CA")
	e.copyCA(t, other)
	e.opts.Checks = []CheckID{CertificateCACopy}
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	want := "refresh the copy: kubectl eck-metrics use-cert -n elastic-system --issuer ca-issuer --ca-secret eck-metrics-ca --prometheus-namespace monitoring"
	if len(r.Checks) != 1 || r.Checks[0].Hint != want {
		t.Errorf("checks %+v, want the hint %q", r.Checks, want)
	}
}

// secretAuth replaces the ServiceMonitor by a monitor of kind with
// --scrape-auth secret (and CA secret ca, "" for none), and stores the
// reader's token Secret as the token controller leaves it (withToken:
// filled in).
func (e *unitEnv) secretAuth(t *testing.T, kind patches.MonitorKind, ca string, withToken bool) {
	t.Helper()
	ctx := context.Background()
	op, err := operator.FromStatefulSet(unitStatefulSet())
	if err != nil {
		t.Fatal(err)
	}
	p := patches.ParamsFor(op, operator.ModeNative, 8081, patches.DefaultSidecarImg, nil)
	obj, err := patches.MonitorObject(p, patches.Monitor{Kind: kind, Auth: patches.ScrapeAuthSecret, TLS: patches.ServiceMonitorTLS{CASecret: ca}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.dyn.Resource(patches.ServiceMonitorGVR).Namespace(unitNS).Delete(ctx, unitName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dyn.Resource(kind.GVR()).Namespace(unitNS).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: patches.ReaderTokenSecretName(unitName), Namespace: unitNS,
		Annotations: map[string]string{corev1.ServiceAccountNameKey: patches.ReaderName(unitName)}}, Type: corev1.SecretTypeServiceAccountToken}
	if withToken {
		secret.Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte("reader-token")}
	}
	if _, err := e.kube.CoreV1().Secrets(unitNS).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// mustRun runs the checks on a cluster that can be looked at.
func mustRun(t *testing.T, c kube.Clients, o Options) *Report {
	t.Helper()
	r, err := Run(context.Background(), c, o)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	return r
}

// When the operator's StatefulSets cannot be read at all, Run reports no
// checks (each would repeat it) but the error, marked as a failed lookup.
func TestRunCannotLook(t *testing.T) {
	for name, err := range map[string]error{
		"forbidden":    apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, "", nil),
		"unauthorized": apierrors.NewUnauthorized("Unauthorized"),
	} {
		t.Run(name, func(t *testing.T) {
			e := newUnitEnv(t)
			e.kube.PrependReactor("list", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, err })
			r, got := Run(context.Background(), kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
			var lookupErr *operator.LookupError
			if !errors.As(got, &lookupErr) || r != nil {
				t.Fatalf("Run() = %v, %v; want no report and an *operator.LookupError", r, got)
			}
		})
	}
	// Not found is a finding, not a failure to look.
	e := newUnitEnv(t)
	e.kube.PrependReactor("list", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &appsv1.StatefulSetList{}, nil
	})
	e.kube.PrependReactor("get", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "statefulsets"}, unitName)
	})
	e.opts.Namespace = ""
	r := mustRun(t, kube.Clients{Kube: e.kube, Dynamic: e.dyn}, e.opts)
	if len(r.Checks) == 0 || r.Checks[0].ID != OperatorFound || r.Checks[0].Outcome != Fail {
		t.Errorf("no operator: checks %+v, want operator.found failed", r.Checks)
	}
}

func TestChecksOfCategory(t *testing.T) {
	var all []CheckID
	for _, c := range Categories() {
		ids := ChecksOf(c)
		if len(ids) == 0 {
			t.Errorf("category %s has no checks", c)
		}
		for _, id := range ids {
			if specs()[id].category != c {
				t.Errorf("ChecksOf(%s) lists %s of category %s", c, id, specs()[id].category)
			}
		}
		all = append(all, ids...)
	}
	if !slices.Equal(all, CheckIDs()) {
		t.Errorf("the categories' checks %v are not every check %v", all, CheckIDs())
	}
	if ChecksOf("operator.found") != nil || ChecksOf("nope") != nil {
		t.Error("ChecksOf of a non-category is not nil")
	}
}
