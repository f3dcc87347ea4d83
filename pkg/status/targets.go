package status

// prometheus-targets: Prometheus's own verdict on our monitor. Each
// Prometheus (or PrometheusAgent) that selects it is asked for the targets
// of our scrape pool (/api/v1/targets?state=any&scrapePool=...), through
// the API server's service proxy to its governing Service, or at
// --prometheus-url. What it says (health, lastError, the last scrape) is
// reported verbatim, with the cause and fix of the errors users meet.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/eck-metrics/kubectl-eck-metrics/pkg/patches"
	"github.com/eck-metrics/kubectl-eck-metrics/pkg/promselect"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// askTimeout bounds each question to a Prometheus: a Prometheus that does
// not answer is warned about, never waited for.
const askTimeout = 5 * time.Second

// targetsAsker asks one Prometheus for the targets of a scrape pool: the
// body of /api/v1/targets?state=any&scrapePool=POOL. p is nil when asking
// the Prometheus at --prometheus-url.
type targetsAsker interface {
	askTargets(ctx context.Context, p *prometheusObject, pool string) ([]byte, error)
}

// askProblem says why a Prometheus gave no answer.
type askProblem int

const (
	askUnreachable   askProblem = iota
	askForbidden                // the user may not use the service proxy
	askTimedOut                 // no answer within askTimeout
	askNotPrometheus            // an answer, but not of Prometheus's API
	askNoService                // no governing Service to proxy to
)

type askError struct {
	problem askProblem
	err     error
}

func (e *askError) Error() string { return e.err.Error() }

func targetsQuery(pool string) url.Values {
	return url.Values{"state": {"any"}, "scrapePool": {pool}}
}

// governingService is the Service prometheus-operator v0.85.0 creates for
// the pods of every Prometheus (or every PrometheusAgent) of a namespace.
func governingService(p *prometheusObject) string {
	if p.Kind == promselect.KindPrometheusAgent {
		return "prometheus-agent-operated"
	}
	return "prometheus-operated"
}

// proxyAsker asks through the API server's service proxy.
type proxyAsker struct{ kube kubernetes.Interface }

func (a proxyAsker) askTargets(ctx context.Context, p *prometheusObject, pool string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, askTimeout)
	defer cancel()
	params := map[string]string{}
	for key, v := range targetsQuery(pool) {
		params[key] = v[0]
	}
	path := strings.TrimSuffix(p.Spec.RoutePrefix, "/") + "/api/v1/targets"
	body, err := a.kube.CoreV1().Services(p.Namespace).ProxyGet("http", governingService(p), "web", path, params).DoRaw(ctx)
	err = proxyError(err)
	switch {
	case err == nil:
		return body, nil
	case ctx.Err() != nil || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err):
		return nil, &askError{askTimedOut, fmt.Errorf("no answer within %s", askTimeout)}
	case apierrors.IsForbidden(err):
		return nil, &askError{askForbidden, err}
	case strings.Contains(err.Error(), fmt.Sprintf("services %q not found", governingService(p))):
		return nil, &askError{askNoService, err}
	case apierrors.IsNotFound(err):
		return nil, &askError{askNotPrometheus, err}
	case apierrors.IsServiceUnavailable(err):
		return nil, &askError{askUnreachable, fmt.Errorf("the API server's service proxy cannot reach it (no Service %s/%s, no Ready pod, or no route from the API server): %v", p.Namespace, governingService(p), err)}
	}
	return nil, &askError{askUnreachable, err}
}

// proxyError keeps what the API server said: client-go turns an answer
// that is not a Status into a generic error and keeps the body as a cause.
func proxyError(err error) error {
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil {
		return err
	}
	for _, c := range se.ErrStatus.Details.Causes {
		// client-go says "unknown" for an empty body.
		if c.Type == metav1.CauseTypeUnexpectedServerResponse && strings.TrimSpace(c.Message) != "" && c.Message != "unknown" {
			return &apierrors.StatusError{ErrStatus: metav1.Status{Status: se.ErrStatus.Status, Code: se.ErrStatus.Code, Reason: se.ErrStatus.Reason,
				Message: se.ErrStatus.Message + ": " + strings.TrimSpace(c.Message), Details: se.ErrStatus.Details}}
		}
	}
	return err
}

// urlAsker asks the Prometheus at --prometheus-url.
type urlAsker struct {
	base   string
	client *http.Client
}

func newURLAsker(base string) urlAsker {
	return urlAsker{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: askTimeout}}
}

func (a urlAsker) askTargets(ctx context.Context, _ *prometheusObject, pool string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/api/v1/targets?"+targetsQuery(pool).Encode(), nil)
	if err != nil {
		return nil, &askError{askUnreachable, err}
	}
	resp, err := a.client.Do(req)
	if err != nil {
		var netErr interface{ Timeout() bool }
		if errors.As(err, &netErr) && netErr.Timeout() {
			return nil, &askError{askTimedOut, fmt.Errorf("no answer within %s", askTimeout)}
		}
		return nil, &askError{askUnreachable, err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, &askError{askUnreachable, err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &askError{askNotPrometheus, fmt.Errorf("GET %s/api/v1/targets: %s", a.base, resp.Status)}
	}
	return body, nil
}

// promTarget is one target as Prometheus 3.x reports it.
type promTarget struct {
	ScrapePool         string    `json:"scrapePool"`
	ScrapeURL          string    `json:"scrapeUrl"`
	Health             string    `json:"health"`
	LastError          string    `json:"lastError"`
	LastScrape         time.Time `json:"lastScrape"`
	LastScrapeDuration float64   `json:"lastScrapeDuration"`
}

// poolTargets is Prometheus's answer for one pool.
type poolTargets struct {
	active []promTarget
	// dropped counts the targets it discovered and relabeling dropped;
	// present tells whether the pool is in its loaded config at all.
	dropped int
	present bool
}

// parseTargets reads /api/v1/targets; anything else is not a Prometheus.
func parseTargets(body []byte, pool string) (poolTargets, error) {
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ActiveTargets       []promTarget   `json:"activeTargets"`
			DroppedTargetCounts map[string]int `json:"droppedTargetCounts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "success" {
		what := strings.TrimSpace(string(body))
		if len(what) > 60 {
			what = what[:60] + "..."
		}
		return poolTargets{}, &askError{askNotPrometheus, fmt.Errorf("the answer is not Prometheus's API (%q)", what)}
	}
	var out poolTargets
	for _, tg := range resp.Data.ActiveTargets {
		if tg.ScrapePool == pool {
			out.active = append(out.active, tg)
		}
	}
	n, ok := resp.Data.DroppedTargetCounts[pool]
	out.dropped, out.present = n, ok || len(out.active) > 0
	return out, nil
}

// scrapePool is the pool prometheus-operator names after our monitor's
// first (only) endpoint.
func scrapePool(kind, ns, name string) string {
	prefix := "serviceMonitor"
	if kind == promselect.KindPodMonitor {
		prefix = "podMonitor"
	}
	return fmt.Sprintf("%s/%s/%s/0", prefix, ns, name)
}

// targetSource is one Prometheus to ask: a selecting one, or the one at
// --prometheus-url (p nil).
type targetSource struct {
	name string
	p    *prometheusObject
}

// answer is one Prometheus's answer.
type answer struct {
	src     targetSource
	targets poolTargets
	err     *askError
}

func (k *checker) targetsAsker() targetsAsker {
	switch {
	case k.o.askTargets != nil:
		return k.o.askTargets
	case k.o.PrometheusURL != "":
		return newURLAsker(k.o.PrometheusURL)
	}
	return proxyAsker{k.c.Kube}
}

func (k *checker) checkPrometheusTargets(ctx context.Context) {
	ids := []CheckID{TargetsAnswered, TargetsPool, TargetsUp}
	// The category's first line says why it cannot go on; the checks after
	// it are reported only when chosen with --check.
	skipAll := func(from int, why string) {
		for i, id := range ids[from:] {
			if (from == 0 && i == 0) || len(k.o.Checks) > 0 {
				k.skip(id, why)
			}
		}
	}
	s := k.prometheusSelection(ctx)
	kind, ns, name := promselect.KindServiceMonitor, k.op.Namespace(), patches.MonitorName(k.op.Name())
	if s.monitor != nil {
		kind, ns, name = s.monitor.kind, s.monitor.namespace, s.monitor.name
	}
	pool := scrapePool(kind, ns, name)
	var sources []targetSource
	switch {
	case k.o.PrometheusURL != "":
		sources = []targetSource{{name: "Prometheus at " + k.o.PrometheusURL}}
	case s.unknown != "":
		skipAll(0, s.unknown)
		return
	default:
		for _, p := range s.selecting() {
			sources = append(sources, targetSource{name: p.Ref(), p: &p})
		}
	}
	if len(sources) == 0 {
		skipAll(0, "no Prometheus selects "+kind+" "+ns+"/"+name+" (pass --prometheus-url URL to ask one)")
		return
	}
	asker := k.targetsAsker()
	var answers []answer
	for _, src := range sources {
		a := answer{src: src}
		body, err := asker.askTargets(ctx, src.p, pool)
		if err == nil {
			a.targets, err = parseTargets(body, pool)
		}
		if err != nil {
			if !errors.As(err, &a.err) {
				a.err = &askError{askUnreachable, err}
			}
		}
		answers = append(answers, a)
	}
	answered := k.reportAnswered(answers, pool)
	if len(answered) == 0 {
		skipAll(1, "no Prometheus answered")
		return
	}
	withTargets := k.reportPool(s, answered, pool)
	if len(withTargets) == 0 {
		if len(k.o.Checks) > 0 {
			k.skip(TargetsUp, "no target in scrape pool "+pool)
		}
		return
	}
	k.reportUp(ctx, s, withTargets)
}

// reportAnswered warns about each Prometheus that did not answer, with the
// permission or route that would let status ask it.
func (k *checker) reportAnswered(answers []answer, pool string) []answer {
	var ok []answer
	var msgs, hints []string
	outcome := Pass
	for _, a := range answers {
		if a.err == nil {
			ok = append(ok, a)
			msgs = append(msgs, a.src.name+" answered")
			continue
		}
		outcome = Warn
		msgs = append(msgs, fmt.Sprintf("%s: %s", a.src.name, askProblemText(a)))
		hints = append(hints, k.askHint(a))
	}
	k.add(TargetsAnswered, outcome, strings.Join(msgs, "; "), strings.Join(hints, "; "), map[string]any{"scrapePool": pool})
	return ok
}

func askProblemText(a answer) string {
	switch a.err.problem {
	case askForbidden:
		return "you may not use the API server's service proxy: " + a.err.Error()
	case askTimedOut:
		return "no answer within " + askTimeout.String()
	case askNotPrometheus:
		return "not a Prometheus: " + a.err.Error()
	case askNoService:
		return "no Service to reach it: " + a.err.Error()
	}
	return "unreachable: " + a.err.Error()
}

func (k *checker) askHint(a answer) string {
	if a.src.p == nil {
		return "pass the base URL of Prometheus's web UI (as http://HOST:9090), reachable from here"
	}
	p := a.src.p
	forward := fmt.Sprintf("kubectl port-forward -n %s svc/%s 9090:web, then pass --prometheus-url http://127.0.0.1:9090", p.Namespace, governingService(p))
	switch a.err.problem {
	case askForbidden:
		return fmt.Sprintf("run status as a user who may get services/proxy in namespace %s, or %s", p.Namespace, forward)
	case askNoService:
		return fmt.Sprintf("prometheus-operator creates Service %s/%s for %s: check it runs; or %s", p.Namespace, governingService(p), p.Ref(), forward)
	}
	return fmt.Sprintf("check that %s's pods are Ready, or give a route: %s", p.Ref(), forward)
}

// reportPool tells, for each Prometheus that answered, whether our pool is
// in its loaded config with targets, and if not why.
func (k *checker) reportPool(s *selection, answered []answer, pool string) []answer {
	var withTargets []answer
	var msgs, hints []string
	outcome := Pass
	for _, a := range answered {
		t := a.targets
		switch {
		case len(t.active) > 0:
			withTargets = append(withTargets, a)
			msgs = append(msgs, fmt.Sprintf("%s: %d target(s) in %s", a.src.name, len(t.active), pool))
		case t.dropped > 0:
			outcome = Fail
			msgs = append(msgs, fmt.Sprintf("%s: %s discovered %d target(s), relabeling dropped all: the monitor selects no Service port https of the operator", a.src.name, pool, t.dropped))
			hints = append(hints, enableHint+" -n "+k.op.Namespace()+" (see "+string(ServiceMonitorSelects)+")")
		default:
			o, msg, hint := k.absentPool(s, a.src, pool)
			outcome = worse(outcome, o)
			msgs = append(msgs, msg)
			hints = append(hints, hint)
		}
	}
	k.add(TargetsPool, outcome, strings.Join(msgs, "; "), strings.Join(hints, "; "), map[string]any{"scrapePool": pool})
	return withTargets
}

// absentPool says why a pool is not in a Prometheus's loaded config, from
// the monitor's status.bindings where prometheus-operator writes them
// (the StatusForConfigurationResources feature gate).
func (k *checker) absentPool(s *selection, src targetSource, pool string) (Outcome, string, string) {
	absent := fmt.Sprintf("%s has no scrape pool %s in its loaded config", src.name, pool)
	ref := pool
	if s.monitor != nil {
		ref = s.monitor.ref()
	}
	var bindings []monitoringv1.WorkloadBinding
	if s.monitor != nil && s.monitor.sm != nil {
		bindings = s.monitor.sm.Status.Bindings
	}
	for _, b := range bindings {
		// At --prometheus-url (src.p nil) the Prometheus is not known: any
		// binding's condition is what there is to say.
		if src.p != nil && (b.Namespace != src.p.Namespace || b.Name != src.p.Name || b.Resource != pluralOf(src.p.Kind)) {
			continue
		}
		for _, c := range b.Conditions {
			if c.Type != monitoringv1.Accepted {
				continue
			}
			who := fmt.Sprintf("%s %s/%s", b.Resource, b.Namespace, b.Name)
			if c.Status == monitoringv1.ConditionTrue {
				return Warn, fmt.Sprintf("%s: prometheus-operator accepted %s for %s, but Prometheus has not reloaded it yet", absent, ref, who),
					"wait for the config reload (the config-reloader sidecar applies it within a minute or two); if it persists, check the config-reloader's logs"
			}
			return Fail, fmt.Sprintf("%s: prometheus-operator rejected %s for %s: %s: %s", absent, ref, who, c.Reason, c.Message),
				"fix what prometheus-operator's message says, then re-run enable"
		}
	}
	why := "not selected, rejected by prometheus-operator, or not reloaded yet"
	if len(bindings) > 0 && src.p != nil {
		why = "prometheus-operator has not bound " + ref + " to it: not selected"
	}
	return Fail, absent + ": " + why,
		fmt.Sprintf("see %s, and prometheus-operator's logs about %s (with its StatusForConfigurationResources feature gate, status.bindings of the ServiceMonitor says why)", SelectionSelected, ref)
}

// pluralOf is the resource a WorkloadBinding names a kind by.
func pluralOf(kind string) string {
	if kind == promselect.KindPrometheusAgent {
		return promselect.PrometheusAgentGVR.Resource
	}
	return promselect.PrometheusGVR.Resource
}

// reportUp reports each target's health as Prometheus saw it.
func (k *checker) reportUp(ctx context.Context, s *selection, withTargets []answer) {
	var msgs, hints []string
	var details []map[string]any
	outcome := Pass
	for _, a := range withTargets {
		for _, tg := range a.targets.active {
			age := "never scraped"
			if !tg.LastScrape.IsZero() && tg.LastScrape.Year() > 1 {
				age = fmt.Sprintf("last scrape %s ago", k.o.Now.Sub(tg.LastScrape).Round(time.Second))
			}
			took := (time.Duration(tg.LastScrapeDuration * float64(time.Second))).Round(time.Millisecond)
			details = append(details, map[string]any{"prometheus": a.src.name, "scrapeUrl": tg.ScrapeURL, "health": tg.Health, "lastError": tg.LastError, "lastScrape": tg.LastScrape, "lastScrapeDuration": tg.LastScrapeDuration})
			switch tg.Health {
			case "up":
				msgs = append(msgs, fmt.Sprintf("%s: %s up (%s, took %s)", a.src.name, tg.ScrapeURL, age, took))
			case "down":
				outcome = Fail
				cause, hint := k.scrapeErrorCause(ctx, s, a.src, tg.LastError)
				msg := fmt.Sprintf("%s: %s down: %s (%s, took %s)", a.src.name, tg.ScrapeURL, tg.LastError, age, took)
				if cause != "" {
					msg += ": " + cause
				}
				msgs = append(msgs, msg)
				hints = append(hints, hint)
			default:
				outcome = worse(outcome, Warn)
				msgs = append(msgs, fmt.Sprintf("%s: %s not scraped yet (health %q)", a.src.name, tg.ScrapeURL, tg.Health))
				hints = append(hints, "run status again after the scrape interval")
			}
		}
	}
	k.add(TargetsUp, outcome, strings.Join(msgs, "; "), strings.Join(hints, "; "), map[string]any{"targets": details})
}

// scrapeErrorCause maps Prometheus's lastError (Prometheus 3.x texts) to
// its cause and the fix.
func (k *checker) scrapeErrorCause(ctx context.Context, s *selection, src targetSource, lastError string) (cause, hint string) {
	ns := k.op.Namespace()
	secret := k.secret
	if secret == "" {
		secret = "SECRET"
	}
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(lastError, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case has("server returned HTTP status 401"):
		return "the endpoint got no token, or one the API server does not accept",
			fmt.Sprintf("run: kubectl eck-metrics enable -n %s (its monitor sends a token the API server accepts; see %s)", ns, ServiceMonitorCredentials)
	case has("server returned HTTP status 403"):
		saNS, saName := k.scrapingAccount(ctx, s, src)
		return fmt.Sprintf("ServiceAccount %s/%s, which Prometheus scrapes with, lacks get on /metrics", saNS, saName), metricsReaderHint(saNS, saName)
	case has("server returned HTTP status 500"):
		return "the operator could not check the token: it may not create TokenReviews or SubjectAccessReviews",
			fmt.Sprintf("run: kubectl eck-metrics enable -n %s (it restores the operator's auth ClusterRole and its binding; see %s)", ns, RBACTokenReviews)
	case has("x509: certificate signed by unknown authority"):
		return "Prometheus does not trust the CA of the served certificate: the monitor's CA Secret is missing or holds another CA",
			fmt.Sprintf("run: kubectl eck-metrics use-cert -n %s --secret %s --ca-secret NAME --ca FILE (the CA that signed the certificate)", ns, secret)
	case has("x509: certificate is valid for"):
		return "the served certificate does not name the host Prometheus verifies (the monitor's tlsConfig.serverName)",
			fmt.Sprintf("issue the certificate for %s, then run: kubectl eck-metrics use-cert -n %s --secret %s --ca-secret NAME", patches.ServiceDNSName(k.op.Name(), ns), ns, secret)
	case has("connection refused", "context deadline exceeded", "i/o timeout", "no route to host"):
		return "Prometheus cannot reach the endpoint",
			fmt.Sprintf("check that NetworkPolicies admit Prometheus on the metrics port (%s), that the Service's target port is the metrics port (%s), and that the operator pod is Ready (%s)", NetworkPolicyMetricsPort, ServiceTargetPort, StatefulSetRollout)
	}
	return "", "see Prometheus's lastError"
}

// scrapingAccount is the ServiceAccount whose token the scrape sends: the
// monitor's reader (secret auth), --prometheus-sa, the asked Prometheus's,
// else placeholders.
func (k *checker) scrapingAccount(ctx context.Context, s *selection, src targetSource) (string, string) {
	if ns, name, ok := k.monitorReader(ctx); ok {
		return ns, name
	}
	if ns, name, ok := k.prometheusSA(); ok {
		return ns, name
	}
	if src.p != nil {
		return src.p.Namespace, src.p.ServiceAccount
	}
	if selecting := s.selecting(); len(selecting) == 1 {
		return selecting[0].Namespace, selecting[0].ServiceAccount
	}
	return "NAMESPACE", "SERVICEACCOUNT"
}
