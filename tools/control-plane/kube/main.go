// Command kube is kube-apiserver, kube-controller-manager and kube-scheduler in one
// binary (one link instead of three, and a third of the disk). The program to run is
// the name it is called by (a symlink) or, failing that, its first argument:
//
//	kube kube-apiserver --secure-port=...
//	ln -s kube kube-scheduler && ./kube-scheduler --kubeconfig=...
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	_ "time/tzdata" // CronJob time zones, as upstream's binaries do

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

var programs = map[string]func() *cobra.Command{
	"kube-apiserver":          apiserver.NewAPIServerCommand,
	"kube-controller-manager": controllermanager.NewControllerManagerCommand,
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
}

func names() string {
	list := make([]string, 0, len(programs))
	for name := range programs {
		list = append(list, name)
	}
	sort.Strings(list)
	return strings.Join(list, ", ")
}

func main() {
	name := filepath.Base(os.Args[0])
	newCommand, ok := programs[name]
	if !ok {
		if len(os.Args) < 2 {
			fmt.Fprintf(os.Stderr, "usage: %s PROGRAM [flags]; PROGRAM is one of %s\n", name, names())
			os.Exit(2)
		}
		newCommand, ok = programs[os.Args[1]]
		if !ok {
			fmt.Fprintf(os.Stderr, "%s: unknown program %q; expected one of %s\n", name, os.Args[1], names())
			os.Exit(2)
		}
		// cobra reads os.Args[1:]: drop the program name so flags parse as upstream's.
		os.Args = append([]string{os.Args[1]}, os.Args[2:]...)
	}
	os.Exit(cli.Run(newCommand()))
}
