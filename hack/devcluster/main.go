// Command devcluster starts the test control plane (kube-apiserver + etcd
// from bin/k8s) and writes an admin kubeconfig, to try the plugin by hand:
//
//	make tools && go run ./hack/devcluster -out /tmp/dev.kubeconfig
//
// It runs until interrupted. There are no controllers: StatefulSets get no pods.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func main() {
	kubeconfig := flag.String("out", "dev.kubeconfig", "where to write the admin kubeconfig")
	assets := flag.String("assets", "bin/k8s", "folder holding kube-apiserver and etcd")
	flag.Parse()

	env := &envtest.Environment{BinaryAssetsDirectory: *assets}
	if _, err := env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	defer func() { _ = env.Stop() }()
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		var raw []byte
		if raw, err = user.KubeConfig(); err == nil {
			err = os.WriteFile(*kubeconfig, raw, 0o600)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeconfig:", err)
		return
	}
	fmt.Printf("control plane up; export KUBECONFIG=%s (Ctrl-C stops it)\n", *kubeconfig)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
