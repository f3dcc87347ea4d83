package status

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/certs"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/operator"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/utils/ptr"
)

// probeResponse is what one request to the endpoint got.
type probeResponse struct {
	code        int
	contentType string
	body        string
	peer        *tls.ConnectionState
}

func (k *checker) checkEndpoint(ctx context.Context) {
	if !k.o.Probe {
		k.addNamed(EndpointReachable, "live endpoint", Skip, "skipped: pass --probe to reach the endpoint", "", nil)
		return
	}
	target, stop, err := k.endpointURL(ctx)
	if err != nil {
		k.add(EndpointReachable, Fail, err.Error(), "pass --metrics-url where you already have a route to the endpoint", nil)
		return
	}
	defer stop()

	// The probe verifies nothing itself: it reports the certificate served.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
	anon, err := get(ctx, client, target, "")
	if err != nil {
		k.add(EndpointReachable, Fail, err.Error(), "check the rollout and the Service, or pass --metrics-url", nil)
		return
	}
	k.add(EndpointReachable, Pass, target, "", map[string]any{"url": target})
	switch anon.code {
	case http.StatusUnauthorized:
		k.add(EndpointAnonymous, Pass, "401 Unauthorized", "", nil)
	case http.StatusOK:
		k.add(EndpointAnonymous, Fail, "200 OK: the endpoint serves metrics to anyone", enableHint, nil)
	default:
		k.add(EndpointAnonymous, Fail, fmt.Sprintf("%d: %s", anon.code, firstLine(anon.body)), "", nil)
	}

	k.checkTokens(ctx, client, target, k.prometheusAccounts(ctx))
	k.checkServedCertificate(ctx, anon.peer)
}

// checkTokens scrapes with the token of each account: --prometheus-sa, or
// those of the Prometheus objects that select our monitor.
func (k *checker) checkTokens(ctx context.Context, client *http.Client, target string, accounts []prometheusAccount) {
	if len(accounts) == 0 {
		k.skip(EndpointToken, "pass --prometheus-sa NAMESPACE/NAME")
		return
	}
	if len(accounts) == 1 && accounts[0].of == "" {
		r := k.checkToken(ctx, client, target, accounts[0].namespace, accounts[0].name)
		k.add(EndpointToken, r.outcome, r.message, r.hint, r.details)
		return
	}
	outcome := Pass
	var msgs, hints []string
	var details []map[string]any
	for _, a := range accounts {
		r := k.checkToken(ctx, client, target, a.namespace, a.name)
		outcome = worse(outcome, r.outcome)
		msgs = append(msgs, "with "+a.String()+": "+r.message)
		if r.hint != "" {
			hints = append(hints, r.hint)
		}
		d := map[string]any{"serviceAccount": a.namespace + "/" + a.name, "of": a.of}
		for key, v := range r.details {
			d[key] = v
		}
		details = append(details, d)
	}
	k.add(EndpointToken, outcome, strings.Join(msgs, "; "), strings.Join(hints, "; "), map[string]any{"accounts": details})
}

// tokenResult is what one scrape with a ServiceAccount's token got.
type tokenResult struct {
	outcome       Outcome
	message, hint string
	details       map[string]any
}

func (k *checker) checkToken(ctx context.Context, client *http.Client, target, ns, name string) tokenResult {
	tr, err := k.c.Kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		return tokenResult{Fail, fmt.Sprintf("cannot get a token of ServiceAccount %s/%s: %v", ns, name, err), "", nil}
	}
	resp, err := get(ctx, client, target, tr.Status.Token)
	if err != nil {
		return tokenResult{Fail, err.Error(), "", nil}
	}
	details := map[string]any{"status": resp.code, "contentType": resp.contentType}
	switch {
	case resp.code == http.StatusOK && strings.Contains(resp.body, "# TYPE "):
		return tokenResult{Pass, fmt.Sprintf("200 OK with Prometheus text (%d metric families)", strings.Count(resp.body, "# TYPE ")), "", details}
	case resp.code == http.StatusOK:
		return tokenResult{Fail, "200 OK but not Prometheus text: " + firstLine(resp.body), "", details}
	case resp.code == http.StatusForbidden:
		return tokenResult{Fail, "403: " + firstLine(resp.body), metricsReaderHint(ns, name), details}
	case resp.code == http.StatusInternalServerError:
		return tokenResult{Fail, "500: " + firstLine(resp.body) + ": the operator cannot review tokens (its tokenreviews/subjectaccessreviews RBAC)", enableHint, details}
	default:
		return tokenResult{Fail, fmt.Sprintf("%d: %s", resp.code, firstLine(resp.body)), "", details}
	}
}

func (k *checker) checkServedCertificate(ctx context.Context, peer *tls.ConnectionState) {
	if peer == nil || len(peer.PeerCertificates) == 0 {
		k.add(EndpointCertificate, Fail, "the endpoint does not serve TLS", enableHint, nil)
		k.skip(EndpointCertMatch, "no certificate served")
		return
	}
	served := peer.PeerCertificates[0]
	details := map[string]any{"subject": served.Subject.String(), "issuer": served.Issuer.String(), "dnsNames": served.DNSNames,
		"notAfter": served.NotAfter.UTC().Format(time.RFC3339), "sha256": fmt.Sprintf("%x", sha256.Sum256(served.Raw))}
	msg := fmt.Sprintf("%s, DNS names %v, valid until %s", served.Subject, served.DNSNames, served.NotAfter.UTC().Format(time.RFC3339))
	k.add(EndpointCertificate, Pass, msg, "", details)
	if k.secret == "" {
		k.add(EndpointCertMatch, Pass, "none: the self-signed default is served", "", nil)
		return
	}
	// Read by the certificate checks already, unless --check skipped them.
	s, err := k.readSecret(ctx, k.op.Namespace(), k.secret)
	if err != nil {
		k.add(EndpointCertMatch, Warn, "cannot read secret "+k.secret+" to compare: "+err.Error(), "run status as a user who may read secrets in "+k.op.Namespace(), nil)
		return
	}
	want, err := certs.ParseCertificate(s.Data[corev1.TLSCertKey])
	switch {
	case err == nil && want.Equal(served):
		k.add(EndpointCertMatch, Pass, "the certificate of secret "+k.secret, "", nil)
	case isLocalhostFallback(served):
		// controller-runtime's metrics server, when tls.crt/tls.key are
		// missing from its cert dir at start-up, serves a generated
		// certificate for localhost and never looks at the dir again.
		k.add(EndpointCertMatch, Warn, fmt.Sprintf("the operator serves its generated certificate for localhost, not the one of secret %s: the files were missing from its certificate directory when it started, and it does not watch for them", k.secret),
			fmt.Sprintf("restart the operator once the secret is mounted: kubectl -n %s rollout restart statefulset %s", k.op.Namespace(), k.op.Name()), nil)
	default:
		wantText := "unreadable"
		if err == nil {
			wantText = fmt.Sprintf("valid until %s", want.NotAfter.UTC().Format(time.RFC3339))
		}
		k.add(EndpointCertMatch, Warn, fmt.Sprintf("the served certificate (valid until %s) is not the one of secret %s (%s): the rollout has not finished, or the kubelet has not yet refreshed the mounted secret after a renewal (it can take a minute or two)",
			served.NotAfter.UTC().Format(time.RFC3339), k.secret, wantText),
			"wait for the rollout: kubectl eck-metrics use-cert --secret "+k.secret+" --wait; if it lasts, restart the operator: kubectl -n "+k.op.Namespace()+" rollout restart statefulset "+k.op.Name(), nil)
	}
}

// isLocalhostFallback tells controller-runtime's generated certificate
// (client-go's GenerateSelfSignedCertKeyWithFixtures for "localhost"): CN
// localhost@<time>, signed by its own localhost-ca@<time>.
func isLocalhostFallback(c *x509.Certificate) bool {
	return slices.Contains(c.DNSNames, "localhost") && strings.HasPrefix(c.Subject.CommonName, "localhost@") && strings.HasPrefix(c.Issuer.CommonName, "localhost-ca@")
}

func get(ctx context.Context, client *http.Client, target, token string) (*probeResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return &probeResponse{code: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(body), peer: resp.TLS}, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// endpointURL is --metrics-url, or a port-forward to a ready operator pod.
func (k *checker) endpointURL(ctx context.Context) (string, func(), error) {
	if k.o.MetricsURL != "" {
		if _, err := url.Parse(k.o.MetricsURL); err != nil {
			return "", nil, fmt.Errorf("invalid --metrics-url: %v", err)
		}
		return k.o.MetricsURL, func() {}, nil
	}
	if k.o.RESTConfig == nil {
		return "", nil, fmt.Errorf("no REST config for a port-forward")
	}
	pods, err := k.c.Kube.CoreV1().Pods(k.op.Namespace()).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(k.op.PodSelector).String()})
	if err != nil {
		return "", nil, fmt.Errorf("cannot list the operator's pods: %v", err)
	}
	var pod *corev1.Pod
	for i := range pods.Items {
		if isReady(&pods.Items[i]) {
			pod = &pods.Items[i]
			break
		}
	}
	if pod == nil {
		return "", nil, fmt.Errorf("no ready operator pod to port-forward to")
	}
	port := k.port
	if k.mode == operator.ModeSidecar {
		port = patches.ServicePort
	}
	transport, upgrader, err := spdy.RoundTripperFor(k.o.RESTConfig)
	if err != nil {
		return "", nil, err
	}
	reqURL := k.c.Kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, reqURL)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		return "", nil, err
	}
	errs := make(chan error, 1)
	go func() { errs <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-errs:
		return "", nil, fmt.Errorf("port-forward to pod %s: %v", pod.Name, err)
	case <-ctx.Done():
		close(stop)
		return "", nil, ctx.Err()
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		close(stop)
		return "", nil, fmt.Errorf("port-forward to pod %s: no local port", pod.Name)
	}
	return fmt.Sprintf("https://127.0.0.1:%d/metrics", ports[0].Local), func() { close(stop) }, nil
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
