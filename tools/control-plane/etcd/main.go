// Command etcd is etcd's server, built from the go.etcd.io/etcd/server/v3 module at the
// version pinned in ../versions.env (Debian's etcd is too old for a current apiserver).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
