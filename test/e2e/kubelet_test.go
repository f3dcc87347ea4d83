//go:build e2e

//lint:file-ignore SA1019 prometheus-operator v0.85.0's scrape jobs discover through Endpoints (role: endpoints), so the test writes them as the endpoints controller would, next to EndpointSlices.

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// kubelet plays the kubelet for the one pod of a StatefulSet, and nothing
// else that a pod does not get: it lays out the pod's Secret and ConfigMap
// volumes as the kubelet does (files behind a `..data` symlink that is
// swapped atomically when the object changes), mounts them and the
// ServiceAccount token at the containers' paths in a private mount namespace
// per container, and starts each container's program with the args and env
// of the pod template. A container that exits is restarted; a changed pod
// template recreates the pod. It also writes what the StatefulSet and
// endpoints controllers would: the StatefulSet's status, and the Endpoints
// and EndpointSlices of the Services that select the pod, and the Pod
// object with its status (pod_test.go).
//
// Programs run on the host's network: every port the pod would listen on is
// mapped to a loopback port (podNet), and local() applies that mapping to a
// container's command line.
type kubelet struct {
	t       testing.TB
	ns, set string
	pod     string // <set>-0
	ip      string // the pod IP Endpoints carry (routed by podNet)
	dir     string
	// images maps an image (exact, or repository without tag) to its binary.
	images map[string]string
	// local rewrites a container's command line for the host network
	// (documented where each is defined).
	local func(r *podRun, c corev1.Container, argv []string) ([]string, error)
	// played are containers the test plays itself (prometheus-config-reloader);
	// hook runs them: before the containers start (started=false) and on
	// every sync.
	played map[string]bool
	hook   func(r *podRun, started bool) error

	mu          sync.Mutex
	run         *podRun
	runs        int // pods created
	restarts    int // container restarts within a pod
	statusGen   int64
	endpoints   map[string]bool
	podObject   podObject // the Pod in the API (pod_test.go)
	lastErr     string
	lastHookErr string
	cancel      context.CancelFunc
	done        chan struct{}
}

// podRun is one incarnation of the pod.
type podRun struct {
	k          *kubelet
	template   corev1.PodTemplateSpec
	dir        string
	volumes    map[string]*volume
	procs      map[string]*process
	exitedAt   map[string]time.Time
	containers map[string]corev1.Container
}

const tokenVolume = "kube-api-access"

// podNet maps pod IP:port to the loopback address the program listens on.
var podNet = struct {
	sync.Mutex
	next   int
	routes map[string]string // "192.0.2.7:8081" -> "127.0.0.1:40123"
}{routes: map[string]string{}}

// newPodIP hands out addresses from TEST-NET-1: never loopback (the API
// server refuses loopback endpoints) and never dialled directly.
func newPodIP() string {
	podNet.Lock()
	defer podNet.Unlock()
	podNet.next++
	return fmt.Sprintf("192.0.2.%d", podNet.next)
}

// loopback is where the program of this pod that binds port podPort listens.
func (k *kubelet) loopback(podPort int32) string {
	podNet.Lock()
	defer podNet.Unlock()
	key := fmt.Sprintf("%s:%d", k.ip, podPort)
	if addr, ok := podNet.routes[key]; ok {
		return addr
	}
	port, err := freePort()
	if err != nil {
		k.t.Fatal(err)
	}
	podNet.routes[key] = "127.0.0.1:" + port
	return podNet.routes[key]
}

func routes() map[string]string {
	podNet.Lock()
	defer podNet.Unlock()
	out := map[string]string{}
	for k, v := range podNet.routes {
		out[k] = v
	}
	return out
}

func newKubelet(t testing.TB, ns, set string) *kubelet {
	dir := t.TempDir()
	return &kubelet{t: t, ns: ns, set: set, pod: set + "-0", ip: newPodIP(), dir: dir,
		images: map[string]string{}, played: map[string]bool{}, endpoints: map[string]bool{}}
}

// start runs the sync loop until the test ends.
func (k *kubelet) start() {
	c, cancel := context.WithCancel(context.Background())
	k.cancel, k.done = cancel, make(chan struct{})
	go func() {
		defer close(k.done)
		for {
			if err := k.sync(c); err != nil && c.Err() == nil {
				k.mu.Lock()
				if err.Error() != k.lastErr {
					k.logf("sync: %v", err)
					k.lastErr = err.Error()
				}
				k.mu.Unlock()
			}
			select {
			case <-c.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	k.t.Cleanup(k.stop)
}

func (k *kubelet) stop() {
	if k.cancel == nil {
		return
	}
	k.cancel()
	<-k.done
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.run != nil {
		k.run.kill()
		k.run = nil
	}
	k.cancel = nil
}

func (k *kubelet) logf(format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(k.dir, "kubelet.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// logs is the tail of the kubelet's and every container's log, for failure
// messages.
func (k *kubelet) logs() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- kubelet %s/%s ---\n%s\n", k.ns, k.pod, tailFile(filepath.Join(k.dir, "kubelet.log"), 20))
	files, _ := filepath.Glob(filepath.Join(k.dir, "*.container.log"))
	for _, f := range files {
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(f), tailFile(f, 40))
	}
	return b.String()
}

// proc is the running process of a container, or nil.
func (k *kubelet) proc(container string) *process {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.run == nil {
		return nil
	}
	p := k.run.procs[container]
	if p == nil || !p.running() {
		return nil
	}
	return p
}

// counts are the pods created and container restarts so far.
func (k *kubelet) counts() (runs, restarts int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.runs, k.restarts
}

func (k *kubelet) sync(c context.Context) error {
	sts, err := cluster.Kube.AppsV1().StatefulSets(k.ns).Get(c, k.set, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		k.mu.Lock()
		if k.run != nil {
			k.logf("StatefulSet gone: pod deleted")
			k.run.kill()
			k.run = nil
		}
		k.mu.Unlock()
		return k.syncPod(c, nil, nil)
	}
	if err != nil {
		return err
	}
	k.mu.Lock()
	run := k.run
	k.mu.Unlock()

	if run == nil || !equality.Semantic.DeepEqual(run.template, sts.Spec.Template) {
		if run != nil {
			k.logf("pod template changed (generation %d): pod recreated", sts.Generation)
			run.kill()
			k.mu.Lock()
			k.run = nil
			k.mu.Unlock()
		}
		run, err = k.startPod(c, sts.Spec.Template)
		if err != nil {
			return fmt.Errorf("pod not started: %w", err)
		}
		k.mu.Lock()
		k.run = run
		k.runs++
		k.mu.Unlock()
	} else {
		if err := run.refreshVolumes(c); err != nil {
			return err
		}
		var hookErr error
		if k.hook != nil {
			hookErr = k.hook(run, true)
		}
		if hookErr != nil && hookErr.Error() != k.lastHookErr {
			k.logf("%v", hookErr)
		}
		k.lastHookErr = ""
		if hookErr != nil {
			k.lastHookErr = hookErr.Error()
		}
		for name, p := range run.procs {
			if p.running() {
				continue
			}
			if _, ok := run.exitedAt[name]; !ok {
				run.exitedAt[name] = time.Now()
				k.logf("container %s exited: %v", name, p.err)
				continue
			}
			if time.Since(run.exitedAt[name]) < time.Second {
				continue
			}
			delete(run.exitedAt, name)
			np, err := run.startContainer(run.containers[name])
			if err != nil {
				return fmt.Errorf("restart container %s: %w", name, err)
			}
			run.procs[name] = np
			k.mu.Lock()
			k.restarts++
			k.mu.Unlock()
			k.logf("container %s restarted (pid %d)", name, np.pid())
		}
	}
	if err := k.writeStatus(c, sts); err != nil {
		return err
	}
	if err := k.syncEndpoints(c, run); err != nil {
		return err
	}
	return k.syncPod(c, sts, run)
}

// writeStatus writes what the StatefulSet controller would once the pod of
// the current template runs.
func (k *kubelet) writeStatus(c context.Context, sts *appsv1.StatefulSet) error {
	if k.statusGen == sts.Generation && sts.Status.ObservedGeneration == sts.Generation {
		return nil
	}
	rev := fmt.Sprintf("%s-%d", sts.Name, sts.Generation)
	sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 1,
		UpdatedReplicas: 1, AvailableReplicas: 1, CurrentRevision: rev, UpdateRevision: rev}
	if _, err := cluster.Kube.AppsV1().StatefulSets(k.ns).UpdateStatus(c, sts, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("StatefulSet status: %w", err)
	}
	k.statusGen = sts.Generation
	return nil
}

func (r *podRun) kill() {
	for _, p := range r.procs {
		p.stop()
	}
}

func (r *podRun) ready() bool {
	for _, p := range r.procs {
		if !p.running() {
			return false
		}
	}
	return len(r.procs) > 0
}

func (k *kubelet) startPod(c context.Context, tmpl corev1.PodTemplateSpec) (*podRun, error) {
	dir, err := os.MkdirTemp(k.dir, "pod-")
	if err != nil {
		return nil, err
	}
	r := &podRun{k: k, template: *tmpl.DeepCopy(), dir: dir, volumes: map[string]*volume{}, procs: map[string]*process{},
		exitedAt: map[string]time.Time{}, containers: map[string]corev1.Container{}}
	for _, v := range tmpl.Spec.Volumes {
		vol, err := r.newVolume(v)
		if err != nil {
			return nil, err
		}
		r.volumes[v.Name] = vol
	}
	if tmpl.Spec.AutomountServiceAccountToken == nil || *tmpl.Spec.AutomountServiceAccountToken {
		r.volumes[tokenVolume] = r.tokenVolume(tmpl.Spec.ServiceAccountName)
	}
	// Like the kubelet, wait for every volume before starting anything.
	if err := r.refreshVolumes(c); err != nil {
		return nil, err
	}
	for _, ic := range tmpl.Spec.InitContainers {
		if !k.played[ic.Name] {
			return nil, fmt.Errorf("init container %s: not supported here", ic.Name)
		}
	}
	if k.hook != nil {
		if err := k.hook(r, false); err != nil {
			return nil, err
		}
	}
	for _, ctr := range tmpl.Spec.Containers {
		if k.played[ctr.Name] {
			continue
		}
		// Every declared port of the pod is routed, listened on or not.
		for _, cp := range ctr.Ports {
			k.loopback(cp.ContainerPort)
		}
		r.containers[ctr.Name] = ctr
		p, err := r.startContainer(ctr)
		if err != nil {
			r.kill()
			return nil, fmt.Errorf("container %s: %w", ctr.Name, err)
		}
		r.procs[ctr.Name] = p
		k.logf("container %s started (pid %d): %s", ctr.Name, p.pid(), strings.Join(p.cmd.Args[9:], " "))
	}
	return r, nil
}

// hostPath is where a path of a container's file system is on the host
// (through the container's volume mounts).
func (r *podRun) hostPath(c corev1.Container, path string) (string, bool) {
	mounts := r.mounts(c)
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].target) > len(mounts[j].target) })
	for _, m := range mounts {
		if path == m.target || strings.HasPrefix(path, m.target+"/") {
			return m.source + strings.TrimPrefix(path, m.target), true
		}
	}
	return "", false
}

type mount struct {
	target, source string
	readOnly, file bool
}

func (r *podRun) mounts(c corev1.Container) []mount {
	var out []mount
	for _, vm := range c.VolumeMounts {
		v := r.volumes[vm.Name]
		if v == nil {
			continue
		}
		m := mount{target: vm.MountPath, source: v.dir, readOnly: vm.ReadOnly}
		if vm.SubPath != "" {
			// The kubelet binds what the subPath resolves to when the
			// container starts; later updates do not reach it.
			resolved, err := filepath.EvalSymlinks(filepath.Join(v.dir, vm.SubPath))
			if err != nil {
				resolved = filepath.Join(v.dir, vm.SubPath)
				_ = os.MkdirAll(resolved, 0o755)
			}
			m.source = resolved
			if fi, err := os.Stat(resolved); err == nil && !fi.IsDir() {
				m.file = true
			}
		}
		out = append(out, m)
	}
	if v := r.volumes[tokenVolume]; v != nil {
		out = append(out, mount{target: "/var/run/secrets/kubernetes.io/serviceaccount", source: v.dir, readOnly: true})
	}
	return out
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

func (r *podRun) startContainer(c corev1.Container) (*process, error) {
	k := r.k
	bin := k.images[c.Image]
	if bin == "" {
		repo := c.Image
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		bin = k.images[repo]
	}
	if bin == "" {
		return nil, fmt.Errorf("no binary for image %q", c.Image)
	}
	if len(c.Command) > 0 {
		return nil, fmt.Errorf("command %q: only images' entrypoints are supported", c.Command)
	}
	env, err := r.env(c)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range env {
		if i := strings.IndexByte(kv, '='); i > 0 {
			vars[kv[:i]] = kv[i+1:]
		}
	}
	argv := []string{bin}
	for _, a := range c.Args { // the kubelet expands $(VAR) from the container's env
		argv = append(argv, varRef.ReplaceAllStringFunc(a, func(m string) string {
			if v, ok := vars[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		}))
	}
	if k.local != nil {
		if argv, err = k.local(r, c, argv); err != nil {
			return nil, err
		}
	}
	root, err := os.MkdirTemp(r.dir, "root-"+c.Name+"-")
	if err != nil {
		return nil, err
	}
	script := mountScript(r.mounts(c))
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", root}, argv...)...)
	cmd.Env = env
	return startProcess(c.Name, filepath.Join(k.dir, c.Name+".container.log"), cmd)
}

// env is the container's environment as the kubelet builds it.
func (r *podRun) env(c corev1.Container) ([]string, error) {
	k := r.k
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME=" + k.pod,
		// The in-cluster client configuration: the kubernetes Service's
		// address, here the test apiserver itself.
		"KUBERNETES_SERVICE_HOST=" + cluster.apiHost,
		"KUBERNETES_SERVICE_PORT=" + cluster.apiPort,
		"KUBERNETES_SERVICE_PORT_HTTPS=" + cluster.apiPort,
	}
	for _, e := range c.Env {
		val := e.Value
		if e.ValueFrom != nil {
			switch {
			case e.ValueFrom.FieldRef != nil:
				switch e.ValueFrom.FieldRef.FieldPath {
				case "metadata.name":
					val = k.pod
				case "metadata.namespace":
					val = k.ns
				case "status.podIP":
					val = k.ip
				case "spec.serviceAccountName":
					val = r.template.Spec.ServiceAccountName
				default:
					return nil, fmt.Errorf("env %s: field %s not supported", e.Name, e.ValueFrom.FieldRef.FieldPath)
				}
			default:
				return nil, fmt.Errorf("env %s: only fieldRef is supported", e.Name)
			}
		}
		env = append(env, e.Name+"="+val)
	}
	return env, nil
}

// mountScript builds, inside the new mount namespace, a root holding the
// host's directories and the pod's mounts at their paths, then pivots into
// it and runs the program ("$@"). Mount points whose parent is missing on
// the host get an overlay over their nearest existing ancestor, so the host
// is never changed.
func mountScript(mounts []mount) string {
	sort.Slice(mounts, func(i, j int) bool { return mounts[i].target < mounts[j].target })
	var b strings.Builder
	b.WriteString(`set -e
R="$1"; shift
mount -t tmpfs tmpfs "$R"
mount --make-unbindable "$R"
for e in /*; do
  n="${e#/}"
  if [ -L "$e" ]; then cp -P "$e" "$R/$n"
  elif [ -d "$e" ]; then mkdir "$R/$n"; mount --rbind "$e" "$R/$n"
  elif [ -e "$e" ]; then : > "$R/$n"; mount --bind "$e" "$R/$n"
  fi
done
# Overlays clone their upper directory's mount: it must not be the
# unbindable root.
mkdir "$R/.kubelet"
mount -t tmpfs tmpfs "$R/.kubelet"
`)
	overlays := map[string]bool{}
	for _, m := range mounts {
		target, ancestor := resolveOnHost(m.target)
		if target != ancestor && ancestor != "/" && !overlays[ancestor] {
			n := len(overlays)
			fmt.Fprintf(&b, "mkdir -p \"$R/.kubelet/ovl%d/u\" \"$R/.kubelet/ovl%d/w\"\n", n, n)
			fmt.Fprintf(&b, "mount -t overlay overlay -o %s \"$R\"%s\n",
				shq(fmt.Sprintf("lowerdir=%s,upperdir=", ancestor))+"\"$R/.kubelet/ovl"+fmt.Sprint(n)+"/u\""+shq(",workdir=")+"\"$R/.kubelet/ovl"+fmt.Sprint(n)+"/w\"",
				shq(ancestor))
			overlays[ancestor] = true
		}
		if m.file {
			fmt.Fprintf(&b, "mkdir -p \"$R\"%s; [ -e \"$R\"%s ] || : > \"$R\"%s\n", shq(filepath.Dir(target)), shq(target), shq(target))
		} else {
			fmt.Fprintf(&b, "mkdir -p \"$R\"%s\n", shq(target))
		}
		fmt.Fprintf(&b, "mount --bind %s \"$R\"%s\n", shq(m.source), shq(target))
		if m.readOnly {
			fmt.Fprintf(&b, "mount -o remount,bind,ro \"$R\"%s\n", shq(target))
		}
	}
	// pivot_root (not chroot): the host's mounts leave the namespace, so
	// /proc/self/mountinfo shows only the pod's (cgroup readers need that).
	b.WriteString("mkdir -p \"$R/.kubelet/oldroot\"\ncd \"$R\"\npivot_root . .kubelet/oldroot\numount -l /.kubelet/oldroot\nexec \"$@\"\n")
	return b.String()
}

// resolveOnHost resolves the symlinks of path on the host (/var/run is /run)
// and returns its nearest existing ancestor (path itself when it exists).
func resolveOnHost(path string) (resolved, ancestor string) {
	parts := strings.Split(strings.Trim(filepath.Clean(path), "/"), "/")
	cur := "/"
	for i, part := range parts {
		next := filepath.Join(cur, part)
		real, err := filepath.EvalSymlinks(next)
		if err != nil {
			return filepath.Join(append([]string{next}, parts[i+1:]...)...), cur
		}
		cur = real
	}
	return cur, cur
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// volume is one pod volume on the host.
type volume struct {
	name, dir string
	read      func(c context.Context) (map[string][]byte, error) // nil: emptyDir
	files     map[string][]byte
	current   string // the ..<timestamp> directory ..data points at
}

func (r *podRun) newVolume(v corev1.Volume) (*volume, error) {
	vol := &volume{name: v.Name, dir: filepath.Join(r.dir, "volumes", v.Name)}
	if err := os.MkdirAll(vol.dir, 0o755); err != nil {
		return nil, err
	}
	ns := r.k.ns
	switch {
	case v.EmptyDir != nil:
	case v.Secret != nil:
		s := v.Secret
		vol.read = func(c context.Context) (map[string][]byte, error) {
			return secretFiles(c, ns, s.SecretName, s.Items, ptr.Deref(s.Optional, false))
		}
	case v.ConfigMap != nil:
		cm := v.ConfigMap
		vol.read = func(c context.Context) (map[string][]byte, error) {
			return configMapFiles(c, ns, cm.Name, cm.Items, ptr.Deref(cm.Optional, false))
		}
	case v.Projected != nil:
		sources := v.Projected.Sources
		vol.read = func(c context.Context) (map[string][]byte, error) {
			out := map[string][]byte{}
			for _, src := range sources {
				var files map[string][]byte
				var err error
				switch {
				case src.Secret != nil:
					files, err = secretFiles(c, ns, src.Secret.Name, src.Secret.Items, ptr.Deref(src.Secret.Optional, false))
				case src.ConfigMap != nil:
					files, err = configMapFiles(c, ns, src.ConfigMap.Name, src.ConfigMap.Items, ptr.Deref(src.ConfigMap.Optional, false))
				default:
					err = fmt.Errorf("projected volume %s: only secret and configMap sources are supported", v.Name)
				}
				if err != nil {
					return nil, err
				}
				for k, v := range files {
					out[k] = v
				}
			}
			return out, nil
		}
	default:
		return nil, fmt.Errorf("volume %s: type not supported here", v.Name)
	}
	return vol, nil
}

// tokenVolume is what the ServiceAccount admission plugin adds to every pod:
// a token of the pod's ServiceAccount (TokenRequest), the API server's CA and
// the namespace.
func (r *podRun) tokenVolume(sa string) *volume {
	if sa == "" {
		sa = "default"
	}
	vol := &volume{name: tokenVolume, dir: filepath.Join(r.dir, "volumes", tokenVolume)}
	_ = os.MkdirAll(vol.dir, 0o755)
	var token string
	ns := r.k.ns
	vol.read = func(c context.Context) (map[string][]byte, error) {
		if token == "" {
			tr, err := cluster.Kube.CoreV1().ServiceAccounts(ns).CreateToken(c, sa, &authenticationv1.TokenRequest{
				Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
			if err != nil {
				return nil, fmt.Errorf("token of ServiceAccount %s/%s: %w", ns, sa, err)
			}
			token = tr.Status.Token
		}
		return map[string][]byte{"token": []byte(token), "ca.crt": cluster.Config.CAData, "namespace": []byte(ns)}, nil
	}
	return vol
}

func secretFiles(c context.Context, ns, name string, items []corev1.KeyToPath, optional bool) (map[string][]byte, error) {
	s, err := cluster.Kube.CoreV1().Secrets(ns).Get(c, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	return project(s.Data, items)
}

func configMapFiles(c context.Context, ns, name string, items []corev1.KeyToPath, optional bool) (map[string][]byte, error) {
	cm, err := cluster.Kube.CoreV1().ConfigMaps(ns).Get(c, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return project(data, items)
}

func project(data map[string][]byte, items []corev1.KeyToPath) (map[string][]byte, error) {
	if len(items) == 0 {
		return data, nil
	}
	out := map[string][]byte{}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return nil, fmt.Errorf("key %s missing", it.Key)
		}
		out[it.Path] = v
	}
	return out, nil
}

func (r *podRun) refreshVolumes(c context.Context) error {
	for _, v := range r.volumes {
		if v.read == nil {
			continue
		}
		files, err := v.read(c)
		if err != nil {
			return err
		}
		if v.current != "" && sameFiles(v.files, files) {
			continue
		}
		if err := v.write(files); err != nil {
			return err
		}
		if v.files != nil {
			r.k.logf("volume %s updated", v.name)
		}
		v.files = files
	}
	return nil
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// write lays files out as the kubelet's atomic writer does: a new
// ..<timestamp> directory, the ..data symlink swapped to it by rename, and
// user-visible names that are symlinks through ..data.
func (v *volume) write(files map[string][]byte) error {
	now := time.Now().UTC()
	ts := fmt.Sprintf("..%s.%09d", now.Format("2006_01_02_15_04_05"), now.Nanosecond())
	tsDir := filepath.Join(v.dir, ts)
	for name, data := range files {
		p := filepath.Join(tsDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(tsDir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(ts, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		return err
	}
	top := map[string]bool{}
	for name := range files {
		top[strings.SplitN(name, "/", 2)[0]] = true
	}
	for name := range top {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				return err
			}
		}
	}
	entries, _ := os.ReadDir(v.dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") && !top[e.Name()] {
			_ = os.Remove(filepath.Join(v.dir, e.Name()))
		}
	}
	if v.current != "" {
		_ = os.RemoveAll(filepath.Join(v.dir, v.current))
	}
	v.current = ts
	return nil
}

// syncEndpoints writes, for each Service of the namespace whose selector
// matches the pod, the Endpoints and EndpointSlice the endpoints controllers
// would: the pod's IP with the Service's ports resolved against the pod's
// container ports (a named targetPort no container has is left out, as they
// do), and deletes them when the Service is gone.
func (k *kubelet) syncEndpoints(c context.Context, run *podRun) error {
	svcs, err := cluster.Kube.CoreV1().Services(k.ns).List(c, metav1.ListOptions{})
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, svc := range svcs.Items {
		if run == nil || len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(run.template.Labels)) {
			continue
		}
		want[svc.Name] = true
		if err := k.writeEndpoints(c, &svc, run); err != nil {
			return err
		}
	}
	for name := range k.endpoints {
		if want[name] {
			continue
		}
		_ = cluster.Kube.CoreV1().Endpoints(k.ns).Delete(c, name, metav1.DeleteOptions{})
		_ = cluster.Kube.DiscoveryV1().EndpointSlices(k.ns).Delete(c, name+"-e2e", metav1.DeleteOptions{})
		delete(k.endpoints, name)
		k.logf("Service %s gone: endpoints deleted", name)
	}
	return nil
}

func (k *kubelet) writeEndpoints(c context.Context, svc *corev1.Service, run *podRun) error {
	var ports []corev1.EndpointPort
	var slicePorts []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port := sp.TargetPort.IntVal
		if sp.TargetPort.StrVal != "" {
			port = 0
			for _, ctr := range run.template.Spec.Containers {
				for _, cp := range ctr.Ports {
					if cp.Name == sp.TargetPort.StrVal {
						port = cp.ContainerPort
					}
				}
			}
		} else if port == 0 {
			port = sp.Port
		}
		if port == 0 {
			continue
		}
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: proto})
		slicePorts = append(slicePorts, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(proto)})
	}
	ready := run.ready()
	ref := &corev1.ObjectReference{Kind: "Pod", Namespace: k.ns, Name: k.pod}
	addr := corev1.EndpointAddress{IP: k.ip, TargetRef: ref}
	var subsets []corev1.EndpointSubset
	if len(ports) > 0 {
		s := corev1.EndpointSubset{Ports: ports}
		if ready {
			s.Addresses = []corev1.EndpointAddress{addr}
		} else {
			s.NotReadyAddresses = []corev1.EndpointAddress{addr}
		}
		subsets = []corev1.EndpointSubset{s}
	}
	eps := cluster.Kube.CoreV1().Endpoints(k.ns)
	ep, err := eps.Get(c, svc.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		ep = &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: k.ns, Labels: svc.Labels}, Subsets: subsets}
		if _, err := eps.Create(c, ep, metav1.CreateOptions{}); err != nil {
			return err
		}
	case err != nil:
		return err
	case !equality.Semantic.DeepEqual(ep.Subsets, subsets):
		ep.Subsets = subsets
		if _, err := eps.Update(c, ep, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	sliceLabels := map[string]string{}
	for k, v := range svc.Labels {
		sliceLabels[k] = v
	}
	sliceLabels[discoveryv1.LabelServiceName] = svc.Name
	sliceLabels[discoveryv1.LabelManagedBy] = "endpointslice-controller.k8s.io"
	endpoints := []discoveryv1.Endpoint{{Addresses: []string{k.ip}, TargetRef: ref,
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready), Terminating: ptr.To(false)}}}
	slices := cluster.Kube.DiscoveryV1().EndpointSlices(k.ns)
	sl, err := slices.Get(c, svc.Name+"-e2e", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		sl = &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-e2e", Namespace: k.ns, Labels: sliceLabels},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: endpoints, Ports: slicePorts}
		if _, err := slices.Create(c, sl, metav1.CreateOptions{}); err != nil {
			return err
		}
	case err != nil:
		return err
	case !equality.Semantic.DeepEqual(sl.Endpoints, endpoints) || !equality.Semantic.DeepEqual(sl.Ports, slicePorts):
		sl.Endpoints, sl.Ports = endpoints, slicePorts
		if _, err := slices.Update(c, sl, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if !k.endpoints[svc.Name] {
		k.logf("Service %s: endpoints %s ports %v", svc.Name, k.ip, ports)
	}
	k.endpoints[svc.Name] = true
	return nil
}
